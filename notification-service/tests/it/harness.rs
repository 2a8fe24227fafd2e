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
use shared::test_support::SmtpServer;
use shared::{
    event::{exchanges, Envelope},
    messaging::{Broker, Handler, HandlerError, Publisher, QueueSpec, Topology},
    test_support::{self, eventually, TestVhost},
};
use std::{
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

pub const WAIT: Duration = Duration::from_secs(20);

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub smtp: SmtpServer,
    /// Every event published on `notifications.events` and `monitoring.events`, in arrival order.
    pub published: EventTap,
    publisher: Publisher,
    shutdown: CancellationToken,
    running: tokio::task::JoinHandle<anyhow::Result<()>>,
    tap_tracker: TaskTracker,
    tap_broker: Broker,
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

    let mut config = Config::default();
    config.http.host = "127.0.0.1".into();
    config.http.port = 0;
    config.auth = shared::test_support::auth::settings();
    config.database = test_support::database();
    config.broker = test_support::broker(&vhost, SERVICE);
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

    let app = App::build(config).await.expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let app_broker = app.broker().clone();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(app.run(shutdown.clone()));
    assert!(
        app_broker.wait_ready(WAIT).await,
        "the service connects to RabbitMQ"
    );

    // A queue of the test's own on the service's exchanges, declared before anything is published.
    let tap = QueueSpec::new("test.notification-events")
        .bind(exchanges::NOTIFICATIONS, "#")
        .bind(exchanges::MONITORING, "#");
    let tap_settings = test_support::broker(&vhost, "notification-tests");
    let tap_broker = Broker::start(
        tap_settings.clone(),
        Topology::new(tap_settings.retry.clone()).with_queue(tap),
    );
    assert!(
        tap_broker.wait_ready(WAIT).await,
        "the test connects to RabbitMQ"
    );
    let published = EventTap::default();
    let tap_tracker = TaskTracker::new();
    tap_broker.spawn_consumer(
        "test.notification-events",
        published.clone(),
        &tap_tracker,
        shutdown.clone(),
    );

    TestApp {
        address,
        client: shared::test_support::auth::client(),
        smtp,
        published,
        publisher: tap_broker.publisher(),
        shutdown,
        running,
        tap_tracker,
        tap_broker,
    }
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
        self.publisher
            .publish(event)
            .await
            .expect("the complaint event is published");
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
        let response = request.send().await.expect("the service answers");
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
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

    /// Stops the service as a signal would, and checks that it stops cleanly and promptly.
    pub async fn stop(self) {
        self.shutdown.cancel();
        let stopped = tokio::time::timeout(WAIT, self.running)
            .await
            .expect("the service stops within the wait");
        stopped
            .expect("the service task does not panic")
            .expect("the service stops without error");
        self.tap_tracker.close();
        self.tap_tracker.wait().await;
        self.tap_broker.close().await;
    }
}

/// Collects the events of the test's queue.
#[derive(Clone, Default)]
pub struct EventTap {
    events: Arc<Mutex<Vec<Envelope>>>,
}

impl Handler for EventTap {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        self.events.lock().unwrap().push(event.clone());
        Ok(())
    }
}

impl EventTap {
    pub fn all(&self) -> Vec<Envelope> {
        self.events.lock().unwrap().clone()
    }

    /// Events of `event_type` matching `predicate` on their data.
    pub fn matching(&self, event_type: &str, predicate: impl Fn(&Value) -> bool) -> Vec<Envelope> {
        self.all()
            .into_iter()
            .filter(|e| e.event_type == event_type && predicate(&e.event_data))
            .collect()
    }

    /// Waits for an event of `event_type` whose data matches `predicate`.
    pub async fn wait_for(&self, event_type: &str, predicate: impl Fn(&Value) -> bool) -> Envelope {
        let predicate = &predicate;
        eventually(&format!("a {event_type}"), WAIT, || async move {
            self.matching(event_type, predicate).into_iter().next()
        })
        .await
    }

    /// Waits for `count` events of `event_type` whose data matches `predicate`.
    pub async fn wait_for_count(
        &self,
        event_type: &str,
        count: usize,
        predicate: impl Fn(&Value) -> bool,
    ) -> Vec<Envelope> {
        let predicate = &predicate;
        eventually(&format!("{count} {event_type}"), WAIT, || async move {
            let found = self.matching(event_type, predicate);
            (found.len() >= count).then_some(found)
        })
        .await
    }
}
