//! Settings pointing at the local servers, with fresh names, for any service under test.

use super::{env_or, unique, TestVhost};
use crate::{
    http::HttpSettings,
    messaging::{BrokerSettings, RetryPolicy, WorkQueueType},
    postgres::DatabaseSettings,
    service::ServiceSettings,
};
use std::time::Duration;

/// Listening on a free port of the loopback interface.
pub fn http() -> HttpSettings {
    HttpSettings {
        host: "127.0.0.1".into(),
        port: 0,
        ..HttpSettings::default()
    }
}

/// The settings every service has, for `service` under test on `vhost`: a free loopback port,
/// the tests' token key, and [`broker`].
pub fn service(vhost: &TestVhost, service: &str) -> ServiceSettings {
    ServiceSettings {
        http: http(),
        auth: super::auth::settings(),
        broker: broker(vhost, service),
        ..ServiceSettings::new(service, 0)
    }
}

/// A fresh schema (`test_…`) in the local database.
pub fn database() -> DatabaseSettings {
    DatabaseSettings {
        url: env_or(
            "DATABASE_URL",
            "postgres://postgres:postgres@127.0.0.1:5432/complaints",
        ),
        schema: unique("test_"),
        max_connections: 5,
        reserved_for_background: 2,
        ..DatabaseSettings::default()
    }
}

/// Broker settings for `vhost`, with retry delays short enough for a test to watch, and
/// classic work queues (see [`WorkQueueType`]); [`quorum_broker`] keeps the production type.
pub fn broker(vhost: &TestVhost, service: &str) -> BrokerSettings {
    BrokerSettings {
        work_queue_type: WorkQueueType::Classic,
        ..quorum_broker(vhost, service)
    }
}

/// [`broker`] with quorum work queues, as deployed. A service of the suite connects as its own
/// broker user, with its production permissions; any other name as the management user.
pub fn quorum_broker(vhost: &TestVhost, service: &str) -> BrokerSettings {
    BrokerSettings {
        url: vhost
            .amqp_url_as(service)
            .unwrap_or_else(|| vhost.amqp_url.clone()),
        service_name: service.to_owned(),
        publish_timeout: Duration::from_secs(5),
        reconnect_max_delay: Duration::from_millis(500),
        retry: RetryPolicy {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(2),
            max_attempts: 3,
        },
        ..BrokerSettings::default()
    }
}

/// The local MongoDB-wire server (`MONGODB_URL`).
pub fn mongo_url() -> String {
    env_or("MONGODB_URL", "mongodb://127.0.0.1:27017")
}

/// The local Redis (`REDIS_URL`).
pub fn redis_url() -> String {
    env_or("REDIS_URL", "redis://127.0.0.1:6379")
}

/// A fresh Redis key prefix (`test:…:`).
pub fn redis_prefix() -> String {
    format!("{}:", unique("test:"))
}
