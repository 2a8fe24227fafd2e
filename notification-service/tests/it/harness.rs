//! `spawn_app()`: the real service on port 0 with a fresh schema and RabbitMQ vhost, its own
//! SMTP server, a tap on `notifications.events` and `monitoring.events`, and a typed client.

use notification_service::{
    app::App,
    config::{Config, SERVICE},
    delivery::{BreakerSettings, SmtpSettings, SmtpTls, TransportKind},
    RetrySettings,
};
use reqwest::StatusCode;
use serde_json::Value;
use shared::{
    event::{exchanges, Envelope},
    test_support::{self, eventually, EventTap, Reply, Running, SmtpServer, StandIn, TestVhost},
};
use std::time::Duration;

pub const WAIT: Duration = Duration::from_secs(20);

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub smtp: SmtpServer,
    /// Every event published on `notifications.events` and `monitoring.events`, in arrival order.
    pub published: EventTap,
    /// Publishes complaint events as complaint-service would.
    publisher: StandIn,
    running: Running,
    /// What it was built from: a restart builds it again on the same schema and vhost.
    config: Config,
}

pub struct Options {
    /// 451 answers for each "flaky" address before it is accepted.
    pub flaky_failures: u32,
    /// Point the service at a port where no SMTP server listens.
    pub smtp_down: bool,
    /// The circuit breaker on the mail server: quick to open and to probe.
    pub breaker: BreakerSettings,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            flaky_failures: 2,
            smtp_down: false,
            breaker: BreakerSettings {
                consecutive_failures: 3,
                open_for: Duration::from_millis(300),
                ..BreakerSettings::default()
            },
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    shared::telemetry::init_logging(&test_support::env_or("TEST_LOG", "warn"));
    let smtp = SmtpServer::start(options.flaky_failures).await;
    let vhost = TestVhost::create().await;

    let mut config = Config {
        service: test_support::service(&vhost, SERVICE),
        ..Config::default()
    };
    config.database = test_support::database();
    config.agents.seed_file = seed_file();
    config.delivery.transport = TransportKind::Smtp;
    config.delivery.smtp = SmtpSettings {
        host: "127.0.0.1".into(),
        port: if options.smtp_down {
            closed_port()
        } else {
            smtp.port
        },
        tls: SmtpTls::None,
        timeout: Duration::from_secs(5),
        ..SmtpSettings::default()
    };
    config.delivery.retry = RetrySettings {
        initial: Duration::from_millis(100),
        max: Duration::from_secs(1),
        max_attempts: 5,
    };
    config.delivery.breaker = options.breaker;

    let running = start(&config).await;
    let address = running.address.clone();

    // A queue of the test's own on the service's exchanges, bound before anything is published.
    let published =
        EventTap::bind_to_all(&vhost, &[exchanges::NOTIFICATIONS, exchanges::MONITORING]).await;
    let publisher = StandIn::new(&vhost, "notification-tests").await;

    TestApp {
        address,
        client: test_support::auth::client(),
        smtp,
        published,
        publisher,
        running,
        config,
    }
}

/// The service built from `config`, running.
async fn start(config: &Config) -> Running {
    let app = App::build(config.clone()).await.expect("the app builds");
    let (port, broker) = (app.port(), app.broker().clone());
    Running::start(SERVICE, port, &broker, |shutdown| app.run(shutdown)).await
}

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

pub fn seed_file() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/seed/agents.json").to_owned()
}

impl TestApp {
    /// Publishes a complaint event as complaint-service's relay would.
    pub async fn publish(&self, event: &Envelope) {
        self.publisher.publish_one(event).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.get_as(path, None).await
    }

    /// `GET path` with `authorization` instead of the harness's all-roles token.
    pub async fn get_as(&self, path: &str, authorization: Option<&str>) -> (StatusCode, Value) {
        let mut request = self.client.get(format!("{}{path}", self.address));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let reply = Reply::send(request).await;
        (reply.status, reply.body)
    }

    /// The notification history of a complaint, newest first.
    pub async fn history(&self, complaint_id: &str) -> Vec<Value> {
        let (status, body) = self
            .get(&format!("/api/notifications?complaintId={complaint_id}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["items"].as_array().cloned().unwrap_or_default()
    }

    /// Waits until the history of `complaint_id` has a notification matching `predicate`.
    pub async fn wait_for_notification(
        &self,
        what: &str,
        complaint_id: &str,
        predicate: impl Fn(&Value) -> bool,
    ) -> Value {
        let predicate = &predicate;
        eventually(what, WAIT, || async move {
            self.history(complaint_id)
                .await
                .into_iter()
                .find(|n| predicate(n))
        })
        .await
    }

    /// Stops the service, publishes `backlog` while it is down, and starts it again on the
    /// same schema, vhost and SMTP server: the backlog waits in its queue when it starts, and
    /// is handed over in batches.
    pub async fn restart_with_backlog(self, backlog: &[Envelope]) -> TestApp {
        let TestApp {
            client,
            smtp,
            published,
            publisher,
            running,
            config,
            ..
        } = self;
        running.stop().await;
        publisher.publish(backlog).await;
        let running = start(&config).await;
        TestApp {
            address: running.address.clone(),
            client,
            smtp,
            published,
            publisher,
            running,
            config,
        }
    }

    /// Stops the service as a signal would, and checks that it stops cleanly and promptly.
    pub async fn stop(self) {
        self.running.stop().await;
        self.publisher.close().await;
    }
}
