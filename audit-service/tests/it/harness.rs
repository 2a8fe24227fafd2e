//! `spawn_app()`: the real App on port 0 with its own schema and vhost, a publisher standing
//! in for the other services, and a typed client. The pieces every crate's tests share (the
//! reply, the tap, the stand-in publisher) are in `shared::test_support`.

use audit_service::{
    app::App,
    config::{Config, SERVICE},
};
use reqwest::StatusCode;
use serde_json::Value;
use shared::{
    event::Envelope,
    test_support::{self, all_pages, eventually, EventTap, Running, StandIn, TestVhost},
};
use sqlx::PgPool;
use std::time::Duration;

pub const WAIT: Duration = Duration::from_secs(20);

pub struct TestApp {
    pub address: String,
    pub vhost: TestVhost,
    /// The app's schema, for looking (and tampering) behind its back.
    pub pool: PgPool,
    /// Publishes as the other services would.
    publisher: StandIn,
    client: reqwest::Client,
    running: Running,
}

pub use shared::test_support::Reply;

pub async fn spawn_app() -> TestApp {
    let vhost = TestVhost::create().await;
    let mut config = Config {
        service: test_support::service(&vhost, SERVICE),
        ..Config::default()
    };
    config.database = test_support::database();
    config.relay.poll_interval = Duration::from_millis(200);
    // Published rows are kept, so a test counts the announcements a batch enqueued.
    config.relay.retention = Duration::from_secs(3600);
    config.audit.verify_page_size = 3; // several pages even for a short chain

    let app = App::build(config.clone()).await.expect("the app builds");
    let (port, broker) = (app.port(), app.broker().clone());
    let running = Running::start(SERVICE, port, &broker, |shutdown| app.run(shutdown)).await;
    let address = running.address.clone();

    let publisher = StandIn::new(&vhost, "test-publisher").await;
    let pool = shared::postgres::connect(&config.database)
        .await
        .expect("the test schema");
    TestApp {
        address,
        vhost,
        pool,
        publisher,
        client: test_support::auth::client(),
        running,
    }
}

impl TestApp {
    /// Stops the app as a shutdown signal would, and waits until it has.
    pub async fn stop(self) {
        self.running.stop().await;
        self.publisher.close().await;
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
        Reply::send(request).await
    }

    /// A GET that must answer 200; its body.
    pub async fn ok(&self, path: &str) -> Value {
        let reply = self.get(path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {:?}", reply.body);
        reply.body
    }

    /// Publishes events to their exchanges, in order, as their services would.
    pub async fn publish(&self, events: &[Envelope]) {
        self.publisher.publish(events).await
    }

    /// Publishes an event to the exchange and routing key given (for types outside the
    /// catalogue, which have no exchange of their own).
    pub async fn publish_to(&self, exchange: &str, routing_key: &str, event: &Envelope) {
        self.publisher
            .publish_to(exchange, routing_key, event)
            .await
    }

    /// Every entry the search finds (all pages), latest first.
    pub async fn search_all(&self, filter: &str) -> Vec<Value> {
        let path = format!("/api/audit/search?limit=200{filter}");
        all_pages(&path, "entries", |path| async move { self.ok(&path).await }).await
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
    pub async fn tap(&self, exchange: &str) -> EventTap {
        EventTap::bind_to(&self.vhost, exchange).await
    }
}
