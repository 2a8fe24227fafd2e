//! `spawn_app()`: the real App on port 0 with its own MongoDB database, RabbitMQ vhost and
//! Redis prefix, a publisher on that vhost, and a typed client.

use event_store_service::{
    app::App,
    config::{Config, SERVICE},
    consumer,
    http::{
        events::{AllPage, StreamPage},
        groups::{Acked, Entries},
        replay::ReplayResult,
        state::AggregateState,
        statistics::StatisticsView,
    },
    streams::{Claimed, Pending},
};
use reqwest::Method;
use serde_json::{json, Value};
use shared::test_support::{self, eventually, Running, StandIn, TestVhost};
use std::time::Duration;

pub const WAIT: Duration = Duration::from_secs(30);

/// The servers a test uses, with fresh names: run the app (or a process) on them.
#[derive(Clone)]
pub struct Servers {
    pub config: Config,
    pub vhost: TestVhost,
}

impl Servers {
    pub async fn fresh() -> Servers {
        let vhost = TestVhost::create().await;
        let mut config = Config {
            service: test_support::service(&vhost, SERVICE),
            ..Config::default()
        };
        config.mongo.url = test_support::mongo_url();
        config.mongo.database = test_support::unique("test_");
        config.redis.url = test_support::redis_url();
        config.redis.stream_prefix = test_support::redis_prefix();
        Servers { config, vhost }
    }

    /// A publisher on the vhost that has declared the service's topology, so events published
    /// while the service is down wait in its queue.
    pub async fn publisher(&self) -> StandIn {
        let topology = consumer::topology(self.config.broker.retry.clone());
        StandIn::with_topology(&self.vhost, "test-publisher", topology).await
    }

    pub fn redis_key(&self, stream: &str) -> String {
        format!("{}{stream}", self.config.redis.stream_prefix)
    }

    pub async fn wait_for_mirror(&self, position: i64) {
        let redis = self.redis().await;
        let key = self.redis_key("event-store:mirrored-position");
        eventually(&format!("the mirror at position {position}"), WAIT, || {
            let mut redis = redis.clone();
            let key = key.clone();
            async move {
                let mirrored: Option<i64> = redis::cmd("GET")
                    .arg(&key)
                    .query_async(&mut redis)
                    .await
                    .ok()?;
                (mirrored? >= position).then_some(())
            }
        })
        .await
    }

    pub async fn redis(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.config.redis.url.as_str())
            .expect("a Redis URL")
            .get_multiplexed_async_connection()
            .await
            .expect("Redis answers")
    }
}

pub struct TestApp {
    pub servers: Servers,
    pub client: Client,
    running: Running,
}

pub async fn spawn_app() -> TestApp {
    start(Servers::fresh().await).await
}

/// The app on `servers` (a first start, or a restart on the same database and vhost).
pub async fn start(servers: Servers) -> TestApp {
    let app = App::build(servers.config.clone())
        .await
        .expect("the app builds");
    let (port, broker) = (app.port(), app.broker().clone());
    let running = Running::start(SERVICE, port, &broker, |shutdown| app.run(shutdown)).await;
    TestApp {
        servers,
        client: Client::new(port),
        running,
    }
}

impl TestApp {
    /// Stops the app as a shutdown signal would, and waits until it has.
    pub async fn stop(self) -> Servers {
        self.running.stop().await;
        self.servers
    }

    pub async fn publisher(&self) -> StandIn {
        self.servers.publisher().await
    }

    /// Waits until the Redis mirror has caught up with position `position`.
    pub async fn wait_for_mirror(&self, position: i64) {
        self.servers.wait_for_mirror(position).await
    }
}

pub use shared::test_support::Reply;

/// A typed client of the API.
#[derive(Clone)]
pub struct Client {
    pub address: String,
    http: reqwest::Client,
}

impl Client {
    pub fn new(port: u16) -> Self {
        Self {
            address: format!("http://127.0.0.1:{port}"),
            http: test_support::auth::client(),
        }
    }

    pub async fn request(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.request_as(method, path, body, None).await
    }

    /// A request with `authorization` instead of the harness's all-roles token.
    pub async fn request_as(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        authorization: Option<&str>,
    ) -> Reply {
        let mut request = self.http.request(method, format!("{}{path}", self.address));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        Reply::send(request).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.request(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.request(Method::POST, path, Some(body)).await
    }

    /// `GET /api/events/all?{query}`.
    pub async fn all(&self, query: &str) -> AllPage {
        self.get(&format!("/api/events/all?{query}")).await.json()
    }

    /// Every event of the log, paged `limit` at a time from the start.
    pub async fn whole_log(
        &self,
        limit: usize,
    ) -> Vec<event_store_service::http::events::StoredEvent> {
        let mut events = Vec::new();
        let mut after = 0;
        loop {
            let page = self.all(&format!("after={after}&limit={limit}")).await;
            after = page.next_after;
            let more = page.has_more;
            events.extend(page.events);
            if !more {
                return events;
            }
        }
    }

    pub async fn stream(&self, stream_id: &str, query: &str) -> StreamPage {
        self.get(&format!("/api/events/stream/{stream_id}?{query}"))
            .await
            .json()
    }

    pub async fn state(&self, aggregate_id: &str, query: &str) -> AggregateState {
        self.get(&format!("/api/events/state/{aggregate_id}?{query}"))
            .await
            .json()
    }

    pub async fn statistics(&self) -> StatisticsView {
        self.get("/api/events/statistics").await.json()
    }

    pub async fn replay(&self, stream_id: &str, body: Value) -> ReplayResult {
        self.post(&format!("/api/events/replay/{stream_id}"), body)
            .await
            .json()
    }

    fn group(stream: &str, group: &str) -> String {
        format!("/api/events/redis-streams/{stream}/groups/{group}")
    }

    pub async fn read_group(
        &self,
        stream: &str,
        group: &str,
        consumer: &str,
        count: usize,
    ) -> Entries {
        self.get(&format!(
            "{}/read?consumer={consumer}&count={count}",
            Self::group(stream, group)
        ))
        .await
        .json()
    }

    pub async fn ack(&self, stream: &str, group: &str, ids: &[String]) -> Acked {
        self.post(
            &format!("{}/ack", Self::group(stream, group)),
            json!({ "ids": ids }),
        )
        .await
        .json()
    }

    pub async fn claim(
        &self,
        stream: &str,
        group: &str,
        consumer: &str,
        min_idle_ms: u64,
    ) -> Claimed {
        self.post(
            &format!("{}/claim", Self::group(stream, group)),
            json!({ "consumer": consumer, "minIdleMs": min_idle_ms }),
        )
        .await
        .json()
    }

    pub async fn pending(&self, stream: &str, group: &str) -> Pending {
        self.get(&format!("{}/pending", Self::group(stream, group)))
            .await
            .json()
    }

    /// Waits until the log holds exactly `count` events (and fails if it ever holds more).
    pub async fn wait_for_count(&self, count: u64) {
        self.wait_for_count_within(count, WAIT).await
    }

    pub async fn wait_for_count_within(&self, count: u64, timeout: Duration) {
        // Positions run 1..=N without gaps, so "position N exists and N+1 does not" is a cheap
        // probe; the tests check the whole log afterwards.
        let probe = format!("after={}&limit=2", count.saturating_sub(1));
        eventually(&format!("{count} stored events"), timeout, || async {
            let page = self.all(&probe).await;
            assert!(
                page.events.len() < 2,
                "more events stored than the {count} published"
            );
            page.events
                .first()
                .is_some_and(|e| e.position == count as i64)
                .then_some(())
        })
        .await
    }
}
