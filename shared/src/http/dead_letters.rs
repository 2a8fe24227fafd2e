//! Operators' view of a service's dead letters: list its DLQs, inspect messages with their
//! failure reason, re-drive one or all back to their queue.

use super::{
    error::ApiError,
    extract::{Json, Path, Query},
};
use crate::auth::{access::allow, Role, Rule};
use crate::messaging::{
    dead_letters::{DeadLetter, DeadLetterError, DeadLetterQueue, MAX_PEEK},
    Broker,
};
use axum::{
    extract::State,
    routing::{get, post},
    Router,
};
use serde::{Deserialize, Serialize};

/// Operators only.
pub const ACCESS: &[Rule] = &[
    allow("GET", "/admin/dead-letters", ADMIN),
    allow("GET", "/admin/dead-letters/{queue}", ADMIN),
    allow("POST", "/admin/dead-letters/{queue}/redrive", ADMIN),
];
const ADMIN: &[Role] = &[Role::Admin];

pub fn routes(broker: Broker) -> Router {
    Router::new()
        .route("/admin/dead-letters", get(list_queues))
        .route("/admin/dead-letters/{queue}", get(peek))
        .route("/admin/dead-letters/{queue}/redrive", post(redrive))
        .with_state(broker)
}

impl From<DeadLetterError> for ApiError {
    fn from(error: DeadLetterError) -> Self {
        match error {
            DeadLetterError::UnknownQueue(_) => ApiError::not_found(error.to_string()),
            DeadLetterError::Unavailable(_) => ApiError::unavailable("RabbitMQ"),
        }
    }
}

/// This service's work queues with the number of dead letters in each.
#[utoipa::path(get, path = "/admin/dead-letters", tag = "operations", responses(
    (status = 200, body = [DeadLetterQueue]),
    (status = 503, body = super::error::ErrorBody),
))]
async fn list_queues(State(broker): State<Broker>) -> Result<Json<Vec<DeadLetterQueue>>, ApiError> {
    Ok(Json(broker.dead_letter_queues().await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct PeekParams {
    /// At most this many messages (default 50, at most 500).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<usize>,
}

/// The dead letters of one work queue, oldest first, with why each failed; they stay in place.
#[utoipa::path(get, path = "/admin/dead-letters/{queue}", tag = "operations",
    params(("queue" = String, Path, description = "A work queue of this service"), PeekParams),
    responses(
        (status = 200, body = [DeadLetter]),
        (status = 400, description = "`limit` is not a number from 1 to 500, or an unknown parameter", body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody),
    ))]
async fn peek(
    State(broker): State<Broker>,
    Path(queue): Path<String>,
    Query(params): Query<PeekParams>,
) -> Result<Json<Vec<DeadLetter>>, ApiError> {
    let limit = params.limit.unwrap_or(50);
    if !(1..=MAX_PEEK).contains(&limit) {
        return Err(ApiError::invalid_query(
            "limit",
            format!("must be from 1 to {MAX_PEEK}, got {limit}"),
        ));
    }
    Ok(Json(broker.peek_dead_letters(&queue, limit).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct RedriveParams {
    /// Only this message; all of them when absent.
    message_id: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct Redriven {
    redriven: usize,
}

/// Moves dead letters back to their work queue for another try.
#[utoipa::path(post, path = "/admin/dead-letters/{queue}/redrive", tag = "operations",
    params(("queue" = String, Path, description = "A work queue of this service"), RedriveParams),
    responses((status = 200, body = Redriven), (status = 404, body = super::error::ErrorBody)))]
async fn redrive(
    State(broker): State<Broker>,
    Path(queue): Path<String>,
    Query(params): Query<RedriveParams>,
) -> Result<Json<Redriven>, ApiError> {
    let redriven = broker
        .redrive_dead_letters(&queue, params.message_id.as_deref())
        .await?;
    Ok(Json(Redriven { redriven }))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(list_queues, peek, redrive))]
pub struct DeadLetterApi;
