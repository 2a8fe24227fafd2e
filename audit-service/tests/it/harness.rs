//! `spawn_app()`: the real App on port 0 with its own schema and vhost, a publisher standing
//! in for the other services, and a typed client.

use audit_service::{
    app::App,
    config::{Config, SERVICE},
};
use reqwest::StatusCode;
use serde_json::Value;
use shared::{
    event::Envelope,
    messaging::{properties, Broker, Handler, HandlerError, Publisher, QueueSpec, Topology},
    test_support::{self, eventually, TestVhost},
};
use sqlx::PgPool;
use std::{
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const WAIT: Duration = Duration::from_secs(20);

pub struct TestApp {
    pub address: String,
    pub config: Config,
    pub vhost: TestVhost,
    /// The app's schema, for looking (and tampering) behind its back.
    pub pool: PgPool,
    /// Publishes as the other services would.
    publisher: Publisher,
    publishing_broker: Broker,
    client: reqwest::Client,
    shutdown: CancellationToken,
    running: JoinHandle<anyhow::Result<()>>,
}

/// What the service answered.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    /// The `error.code` of an error answer.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }
}

pub async fn spawn_app() -> TestApp {
    let vhost = TestVhost::create().await;
    let mut config = Config::default();
    config.http.host = "127.0.0.1".into();
    config.http.port = 0;
    config.auth = shared::test_support::auth::settings();
    config.database = test_support::database();
    config.broker = test_support::broker(&vhost, SERVICE);
    config.relay.poll_interval = Duration::from_millis(200);
    config.audit.verify_page_size = 3; // several pages even for a short chain

    let app = App::build(config.clone()).await.expect("the app builds");
    assert!(
        app.broker().wait_ready(WAIT).await,
        "the app connects to RabbitMQ"
    );
    let address = format!("http://127.0.0.1:{}", app.port());
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(app.run(shutdown.clone()));

    let publishing_broker = Broker::start(
        test_support::broker(&vhost, "test-publisher"),
        Topology::new(config.broker.retry.clone()),
    );
    assert!(publishing_broker.wait_ready(WAIT).await);
    let pool = shared::postgres::connect(&config.database)
        .await
        .expect("the test schema");
    TestApp {
        address,
        config,
        vhost,
        pool,
        publisher: publishing_broker.publisher(),
        publishing_broker,
        client: shared::test_support::auth::client(),
        shutdown,
        running,
    }
}

impl TestApp {
    /// Stops the app as a shutdown signal would, and waits until it has.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.running
            .await
            .expect("the app task ends")
            .expect("the app stops cleanly");
        self.publishing_broker.close().await;
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.request_as(reqwest::Method::GET, path, None).await
    }

    /// `method path` with `authorization` instead of the harness's all-roles token.
    pub async fn request_as(
        &self,
        method: reqwest::Method,
        path: &str,
        authorization: Option<&str>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.expect("the app answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        let body =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: not JSON: {text}"));
        Reply { status, body }
    }

    /// A GET that must answer 200; its body.
    pub async fn ok(&self, path: &str) -> Value {
        let reply = self.get(path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {:?}", reply.body);
        reply.body
    }

    /// Publishes events to their exchanges, in order, as their services would.
    pub async fn publish(&self, events: &[Envelope]) {
        self.publisher
            .publish_all(events)
            .await
            .expect("the broker confirms");
    }

    /// Publishes an event to the exchange and routing key given (for types outside the
    /// catalogue, which have no exchange of their own).
    pub async fn publish_to(&self, exchange: &str, routing_key: &str, event: &Envelope) {
        self.publisher
            .publish_to(
                exchange,
                routing_key,
                event,
                properties::for_envelope(event),
            )
            .await
            .expect("the broker confirms");
    }

    /// Every entry the search finds (all pages), latest first.
    pub async fn search_all(&self, filter: &str) -> Vec<Value> {
        let mut entries = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = self
                .ok(&format!("/api/audit/search?limit=200{filter}{cursor}"))
                .await;
            entries.extend(page["entries"].as_array().expect("entries").iter().cloned());
            match page["nextCursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => return entries,
            }
        }
    }

    /// Waits until `count` entries with this correlation id are recorded; returns them,
    /// latest first.
    pub async fn recorded(&self, correlation_id: &str, count: usize) -> Vec<Value> {
        eventually(
            &format!("{count} entries with correlation id {correlation_id}"),
            WAIT,
            || async {
                let entries = self
                    .search_all(&format!("&correlationId={correlation_id}"))
                    .await;
                (entries.len() >= count).then_some(entries)
            },
        )
        .await
    }

    /// The trail of one aggregate (first page).
    pub async fn trail(&self, aggregate_id: &str) -> Vec<Value> {
        self.ok(&format!("/api/audit/trail/{aggregate_id}")).await["entries"]
            .as_array()
            .cloned()
            .expect("entries")
    }

    pub async fn verify(&self) -> Value {
        self.ok("/api/audit/verify").await
    }

    /// Runs SQL on the trail as someone with database access would, going around the
    /// append-only triggers first.
    pub async fn tamper(&self, sql: &str) {
        let mut tx = self.pool.begin().await.expect("a transaction");
        sqlx::query("ALTER TABLE audit_entries DISABLE TRIGGER USER")
            .execute(&mut *tx)
            .await
            .expect("disable the triggers");
        sqlx::query(sql).execute(&mut *tx).await.expect("tampering");
        sqlx::query("ALTER TABLE audit_entries ENABLE TRIGGER USER")
            .execute(&mut *tx)
            .await
            .expect("enable the triggers");
        tx.commit().await.expect("commit the tampering");
    }

    /// A queue of the test's own bound to `exchange`, collecting what arrives there.
    pub async fn tap(&self, exchange: &str) -> Tap {
        let seen = Tap::default();
        let queue = test_support::unique("test.tap-");
        let broker = Broker::start(
            test_support::broker(&self.vhost, "test-tap"),
            Topology::new(self.config.broker.retry.clone())
                .with_queue(QueueSpec::new(queue.as_str()).bind(exchange, "#")),
        );
        assert!(broker.wait_ready(WAIT).await, "the tap connects");
        broker.spawn_consumer(
            &queue,
            seen.clone(),
            &tokio_util::task::TaskTracker::new(),
            CancellationToken::new(),
        );
        seen
    }
}

/// Events seen on a tapped exchange.
#[derive(Clone, Default)]
pub struct Tap(Arc<Mutex<Vec<Envelope>>>);

impl Handler for Tap {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        self.0.lock().expect("the tap lock").push(event.clone());
        Ok(())
    }
}

impl Tap {
    pub fn events(&self) -> Vec<Envelope> {
        self.0.lock().expect("the tap lock").clone()
    }

    /// Waits until `count` events have arrived; returns them in arrival order.
    pub async fn received(&self, count: usize) -> Vec<Envelope> {
        eventually(&format!("{count} events on the tap"), WAIT, || async {
            let events = self.events();
            (events.len() >= count).then_some(events)
        })
        .await
    }
}
