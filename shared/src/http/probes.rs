//! `/health` (the process answers), `/ready` (its dependencies answer) and `/metrics`.

use axum::{extract::State, http::StatusCode, response::IntoResponse, routing::get, Json, Router};
use futures_util::future::{join_all, BoxFuture};
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::{json, Map, Value};
use std::{sync::Arc, time::Duration};

type Check = Arc<dyn Fn() -> BoxFuture<'static, bool> + Send + Sync>;
type Condition = Arc<dyn Fn() -> Option<&'static str> + Send + Sync>;

/// The named checks `/ready` runs; each must answer within two seconds. Besides them, the
/// conditions that degrade the service without making it unready (a circuit open towards a
/// mail server: work waits, nothing is lost).
#[derive(Clone, Default)]
pub struct Readiness {
    checks: Vec<(&'static str, Check)>,
    conditions: Vec<(&'static str, Condition)>,
}

impl Readiness {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn check<F, Fut>(mut self, name: &'static str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = bool> + Send + 'static,
    {
        self.checks.push((
            name,
            Arc::new(move || Box::pin(check()) as BoxFuture<'static, bool>),
        ));
        self
    }

    /// A condition shown in `/ready`'s detail under `name`: its state, and `degraded: true` when
    /// `state` says anything other than `ok` ([`None`]). It never makes the service unready.
    pub fn degraded_when<F>(mut self, name: &'static str, state: F) -> Self
    where
        F: Fn() -> Option<&'static str> + Send + Sync + 'static,
    {
        self.conditions.push((name, Arc::new(state)));
        self
    }

    /// Ready when RabbitMQ is connected with the topology declared.
    pub fn broker(self, broker: &crate::messaging::Broker) -> Self {
        let broker = broker.clone();
        self.check("rabbitmq", move || {
            let ready = broker.is_ready();
            async move { ready }
        })
    }

    /// Ready when PostgreSQL answers a query.
    pub fn postgres(self, pool: &sqlx::PgPool) -> Self {
        let pool = pool.clone();
        self.check("postgres", move || {
            let pool = pool.clone();
            async move { sqlx::query("SELECT 1").execute(&pool).await.is_ok() }
        })
    }

    /// Every check's result, and whether all passed.
    pub async fn run(&self) -> (bool, Map<String, Value>) {
        let results = join_all(self.checks.iter().map(|(name, check)| async move {
            let ok = tokio::time::timeout(Duration::from_secs(2), check())
                .await
                .unwrap_or(false);
            (*name, ok)
        }))
        .await;
        let all = results.iter().all(|(_, ok)| *ok);
        let map = results
            .into_iter()
            .map(|(name, ok)| (name.to_owned(), Value::from(if ok { "up" } else { "down" })))
            .collect();
        (all, map)
    }

    /// Each condition's state (`ok` or what it says), and whether any is degraded.
    pub fn conditions(&self) -> (bool, Map<String, Value>) {
        let mut degraded = false;
        let mut map = Map::new();
        for (name, state) in &self.conditions {
            let state = state();
            degraded |= state.is_some();
            map.insert((*name).to_owned(), Value::from(state.unwrap_or("ok")));
        }
        (degraded, map)
    }
}

#[derive(Clone)]
struct Probes {
    readiness: Readiness,
    metrics: PrometheusHandle,
}

pub fn routes(readiness: Readiness, metrics: PrometheusHandle) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(render_metrics))
        .with_state(Probes { readiness, metrics })
}

/// The process is alive.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, description = "Alive")))]
pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Every dependency answers.
#[utoipa::path(get, path = "/ready", tag = "operations", responses(
    (status = 200, description = "Ready; the status of each dependency, and whether the service is degraded"),
    (status = 503, description = "A dependency is down; the status of each"),
))]
async fn ready(State(probes): State<Probes>) -> impl IntoResponse {
    let (ready, mut checks) = probes.readiness.run().await;
    let (degraded, conditions) = probes.readiness.conditions();
    checks.extend(conditions);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = if ready { "ready" } else { "not ready" };
    (
        status,
        Json(json!({ "status": word, "degraded": degraded, "checks": checks })),
    )
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format")))]
async fn render_metrics(State(probes): State<Probes>) -> impl IntoResponse {
    (
        [("content-type", "text/plain; version=0.0.4")],
        probes.metrics.render(),
    )
}
