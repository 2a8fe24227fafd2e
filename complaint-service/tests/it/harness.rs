//! `spawn_app()`: the real App on port 0, its own schema and vhost, and a typed client.

use complaint_service::{
    app::App,
    config::{Config, SERVICE},
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use shared::test_support::{self, all_pages, eventually, with_headers, Running, TestVhost};
use sqlx::PgPool;
use std::time::Duration;

pub const WAIT: Duration = Duration::from_secs(20);

pub struct TestApp {
    pub address: String,
    pub config: Config,
    pub vhost: TestVhost,
    client: reqwest::Client,
    running: Running,
}

pub use shared::test_support::Reply;

pub fn test_config(vhost: &TestVhost) -> Config {
    let mut config = Config {
        service: test_support::service(vhost, SERVICE),
        ..Config::default()
    };
    config.database = test_support::database();
    config.projection.poll_interval = Duration::from_millis(200);
    config.relay.poll_interval = Duration::from_millis(200);
    config
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A new app with its own schema and vhost, after `adjust`ing its config.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let vhost = TestVhost::create().await;
    let mut config = test_config(&vhost);
    adjust(&mut config);
    start(config, vhost).await
}

/// Another app on the same schema and vhost as `config` (a restart, or a second instance).
pub async fn start(config: Config, vhost: TestVhost) -> TestApp {
    let app = App::build(config.clone()).await.expect("the app builds");
    let (port, broker) = (app.port(), app.broker().clone());
    let running = Running::start(SERVICE, port, &broker, |shutdown| app.run(shutdown)).await;
    let address = running.address.clone();
    TestApp {
        address,
        config,
        vhost,
        client: test_support::auth::client(),
        running,
    }
}

/// A valid create body; `n` varies it.
pub fn new_complaint(n: usize) -> Value {
    json!({
        "title": format!("Charged twice for order {n}"),
        "description": "My card was debited twice for the same order.",
        "category": "billing",
        "priority": "HIGH",
        "customer": { "id": format!("customer-{n}"), "name": "Ada Lovelace", "email": "ada@example.com" }
    })
}

impl TestApp {
    /// Stops the app as a shutdown signal would, and waits until it has.
    pub async fn stop(self) {
        self.running.stop().await
    }

    /// A client that sends no token (the harness's own sends one on every request).
    pub fn client_without_token(&self) -> reqwest::Client {
        reqwest::Client::new()
    }

    pub async fn pool(&self) -> PgPool {
        shared::postgres::connect(&self.config.database)
            .await
            .expect("the test database")
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<RequestBody>,
    ) -> Reply {
        let request = self
            .client
            .request(method, format!("{}{path}", self.address));
        let request = with_headers(request, headers);
        let request = match body {
            Some(RequestBody::Json(value)) => request.json(&value),
            Some(RequestBody::Raw(content_type, bytes)) => {
                request.header("content-type", content_type).body(bytes)
            }
            None => request,
        };
        Reply::send(request).await
    }

    pub async fn create(&self, body: Value) -> Reply {
        self.create_with(body, &[]).await
    }

    pub async fn create_with(&self, body: Value, headers: &[(&str, &str)]) -> Reply {
        self.request(
            Method::POST,
            "/api/complaints",
            headers,
            Some(RequestBody::Json(body)),
        )
        .await
    }

    /// Creates complaint `n` and returns its id.
    pub async fn created(&self, n: usize) -> String {
        let reply = self.create(new_complaint(n)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        reply.id()
    }

    /// `PUT /api/complaints/{id}/{action}` with a JSON body (`Value::Null` sends none).
    pub async fn command(&self, id: &str, action: &str, body: Value) -> Reply {
        self.command_with(id, action, body, &[]).await
    }

    pub async fn command_with(
        &self,
        id: &str,
        action: &str,
        body: Value,
        headers: &[(&str, &str)],
    ) -> Reply {
        let body = (!body.is_null()).then_some(RequestBody::Json(body));
        self.request(
            Method::PUT,
            &format!("/api/complaints/{id}/{action}"),
            headers,
            body,
        )
        .await
    }

    /// Runs a command that must succeed; returns the new version.
    pub async fn ok(&self, id: &str, action: &str, body: Value) -> i64 {
        let reply = self.command(id, action, body).await;
        assert_eq!(reply.status, StatusCode::OK, "{action}: {:?}", reply.body);
        reply.version()
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.request(Method::GET, path, &[], None).await
    }

    /// The complaint once the read model has reached `version` (asked again, as a client
    /// would, while the answer is 503 `READ_MODEL_BEHIND`).
    pub async fn complaint_at(&self, id: &str, version: i64) -> Value {
        let path = format!("/api/complaints/{id}?minVersion={version}");
        let reply = eventually("the read model to reach the version", WAIT, || async {
            let reply = self.get(&path).await;
            let behind = reply.status == StatusCode::SERVICE_UNAVAILABLE
                && reply.code() == "READ_MODEL_BEHIND";
            (!behind).then_some(reply)
        })
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        reply.body
    }

    /// Waits until the read model has applied every event recorded so far.
    pub async fn settled(&self) {
        eventually("the projection to catch up", WAIT, || async {
            let status = self.get("/api/admin/projections").await.body;
            (status["pendingEvents"] == 0).then_some(())
        })
        .await;
    }

    /// Every complaint of the list (all pages of `limit`), in list order.
    pub async fn list_all(&self, filter: &str, limit: usize) -> Vec<Value> {
        let path = format!("/api/complaints?limit={limit}{filter}");
        all_pages(&path, "items", |path| self.ok_body(path)).await
    }

    /// `GET path`, which must answer 200; the body.
    pub async fn ok_body(&self, path: String) -> Value {
        let reply = self.get(&path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {:?}", reply.body);
        reply.body
    }

    /// The ids of the list with `filter` (e.g. `&status=OPEN`).
    pub async fn ids(&self, filter: &str) -> Vec<String> {
        self.list_all(filter, 100)
            .await
            .iter()
            .map(|c| c["id"].as_str().expect("id").to_owned())
            .collect()
    }
}

pub enum RequestBody {
    Json(Value),
    Raw(&'static str, Vec<u8>),
}
