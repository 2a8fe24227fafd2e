//! The event store API (`/api/events`): the log, replay, state, statistics, and consumer
//! groups on the Redis streams.

mod access;
mod error;
pub mod events;
pub mod groups;
mod params;
pub mod replay;
pub mod state;
pub mod statistics;

use crate::{replay::Replayer, store::EventStore, streams::RedisStreams};
use axum::{
    extract::{Request, State},
    middleware::{self, Next},
    response::Response,
    routing::{get, post, put, MethodRouter},
    Router,
};
use std::sync::Arc;
use utoipa::OpenApi;

/// What the handlers share.
#[derive(Clone)]
pub struct ApiState {
    pub store: Arc<EventStore>,
    pub redis: RedisStreams,
    pub replayer: Arc<Replayer>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "event-store-service",
        description = "Immutable log of every domain event, Redis Streams, replay, state reconstruction"
    ),
    paths(
        events::stream,
        events::all,
        replay::replay,
        state::state,
        statistics::statistics,
        groups::create,
        groups::read,
        groups::ack,
        groups::claim,
        groups::pending,
    ),
    tags(
        (name = "events", description = "The log, replay and state reconstruction"),
        (name = "redis-streams", description = "Consumer groups on the Redis streams"),
    )
)]
struct ApiDoc;

pub fn router(state: ApiState) -> Router {
    let group = "/api/events/redis-streams/{stream}/groups/{group}";
    Router::new()
        .route(
            "/api/events/stream/{stream_id}",
            counted("read_stream", get(events::stream)),
        )
        .route("/api/events/all", counted("read_all", get(events::all)))
        .route(
            "/api/events/replay/{stream_id}",
            counted("replay", post(replay::replay)),
        )
        .route(
            "/api/events/state/{aggregate_id}",
            counted("rebuild_state", get(state::state)),
        )
        .route(
            "/api/events/statistics",
            counted("statistics", get(statistics::statistics)),
        )
        .route(group, counted("group_create", put(groups::create)))
        .route(
            &format!("{group}/read"),
            counted("group_read", get(groups::read)),
        )
        .route(
            &format!("{group}/ack"),
            counted("group_ack", post(groups::ack)),
        )
        .route(
            &format!("{group}/claim"),
            counted("group_claim", post(groups::claim)),
        )
        .route(
            &format!("{group}/pending"),
            counted("group_pending", get(groups::pending)),
        )
        .with_state(state)
}

/// Counts each call of a route in `event_store_operations_total{operation}`, with outcome
/// `ok`, `rejected` (the caller's mistake, or a 404) or `error` (ours or a dependency's).
async fn count(State(operation): State<&'static str>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let outcome = if status.is_success() {
        "ok"
    } else if status.is_client_error() {
        "rejected"
    } else {
        "error"
    };
    crate::metrics::operation(operation, outcome, 1);
    response
}

fn counted(operation: &'static str, route: MethodRouter<ApiState>) -> MethodRouter<ApiState> {
    route.layer(middleware::from_fn_with_state(operation, count))
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    replay::require_a_target(&mut doc);
    doc
}

pub use access::ACCESS;
