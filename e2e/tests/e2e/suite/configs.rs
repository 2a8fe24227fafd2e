//! The four services' settings for one suite: each its own PostgreSQL schema (or MongoDB
//! database and Redis prefix), all on the suite's RabbitMQ vhost, with polls and retries short
//! enough for a test to watch, an SLA short enough to pass during one, and notification-service
//! delivering over SMTP to the suite's server.

use shared::{
    postgres::DatabaseSettings,
    test_support::{self, TestVhost},
};
use std::time::Duration;

/// The SLA of a CRITICAL complaint in the suite: short enough to see an escalation happen.
/// The other priorities keep their defaults (days), so only CRITICAL complaints escalate.
pub const CRITICAL_SLA: Duration = Duration::from_secs(2);

/// Safety-net polls of the relays, projections and workers (they are woken up sooner).
const POLL: Duration = Duration::from_millis(200);

/// A saga step waits this long for its answer: longer than a test keeps a consumer stopped,
/// so that a restart resumes the saga instead of failing it.
const SAGA_STEP_TIMEOUT: Duration = Duration::from_secs(90);

/// How often complaint-service looks for due SLA timers and overdue saga steps.
const SAGA_CLOCK: Duration = Duration::from_millis(200);

/// A fresh schema, with the service's own pool size (the tests' default is smaller).
fn fresh_schema(max_connections: u32) -> DatabaseSettings {
    DatabaseSettings {
        max_connections,
        ..test_support::database()
    }
}

pub fn complaints(vhost: &TestVhost) -> complaint_service::config::Config {
    use complaint_service::config::{Config, SERVICE};
    let mut config = Config {
        service: test_support::service(vhost, SERVICE),
        ..Config::default()
    };
    config.database = fresh_schema(config.database.max_connections);
    config.projection.poll_interval = POLL;
    config.relay.poll_interval = POLL;
    config.policy.sla_critical = CRITICAL_SLA;
    config.saga.step_timeout = SAGA_STEP_TIMEOUT;
    config.saga.clock_interval = SAGA_CLOCK;
    config
}

pub fn notifications(vhost: &TestVhost, smtp_port: u16) -> notification_service::config::Config {
    use notification_service::{
        config::{Config, SERVICE},
        delivery::{SmtpSettings, SmtpTls, TransportKind},
        RetrySettings,
    };
    let mut config = Config {
        service: test_support::service(vhost, SERVICE),
        ..Config::default()
    };
    config.database = fresh_schema(config.database.max_connections);
    config.relay.poll_interval = POLL;
    config.agents.seed_file = seed_file();
    config.delivery.transport = TransportKind::Smtp;
    config.delivery.poll_interval = POLL;
    config.delivery.smtp = SmtpSettings {
        host: "127.0.0.1".into(),
        port: smtp_port,
        tls: SmtpTls::None,
        timeout: Duration::from_secs(5),
        ..SmtpSettings::default()
    };
    config.delivery.retry = RetrySettings {
        initial: Duration::from_millis(100),
        max: Duration::from_secs(1),
        max_attempts: 5,
    };
    config
}

/// notification-service's agent directory (agents and supervisors).
pub fn seed_file() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../notification-service/seed/agents.json"
    )
    .to_owned()
}

pub fn audit(vhost: &TestVhost) -> audit_service::config::Config {
    use audit_service::config::{Config, SERVICE};
    let mut config = Config {
        service: test_support::service(vhost, SERVICE),
        ..Config::default()
    };
    config.database = fresh_schema(config.database.max_connections);
    config.relay.poll_interval = POLL;
    config
}

pub fn event_store(vhost: &TestVhost) -> event_store_service::config::Config {
    use event_store_service::config::{Config, SERVICE};
    let defaults = Config::default();
    let mut config = Config {
        service: test_support::service(vhost, SERVICE),
        ..defaults.clone()
    };
    config.mongo.url = test_support::mongo_url();
    config.mongo.database = test_support::unique("test_");
    config.redis.url = test_support::redis_url();
    config.redis.stream_prefix = test_support::redis_prefix();
    // Keep the service's own batching (bigger than the others'): it is what ingestion is
    // tuned for, and the propagation figures should reflect it.
    config.service.broker.prefetch = defaults.service.broker.prefetch;
    config.service.broker.batch_size = defaults.service.broker.batch_size;
    config
}
