//! The command routes: create, and the transitions of one complaint. Each answers with the
//! complaint's new version (body and `ETag`), which a client can read back with
//! `minVersion` or pass as `If-Match`.

use axum::{
    extract::{FromRequestParts, State},
    http::{header, request::Parts, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use shared::{
    auth::Principal,
    complaint::Command,
    http::{ApiError, CorrelationId, ErrorBody, Json, OptionalJson},
};
use uuid::Uuid;

use super::{
    headers::{self, CommandHeaders, IdempotencyKeyHeader},
    requests::{
        AssignRequest, ChangePriorityRequest, CreateComplaintRequest, EmptyRequest, ReopenRequest,
        ResolveRequest,
    },
    ApiState, ComplaintId,
};
use crate::{
    commands::{CommandContext, CommandResult, Created, IdempotencyKey},
    error::ServiceError,
};

/// Who asks and on what terms, read off the request by every command route: the token's
/// principal (its `sub` is the events' `userId`, its roles are checked), the correlation id,
/// and `If-Match` as the version the command expects.
pub struct Asked(CommandContext);

impl<S: Send + Sync> FromRequestParts<S> for Asked {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Ok(correlation) = CorrelationId::from_request_parts(parts, state).await;
        let principal = Principal::from_request_parts(parts, state).await?;
        let headers = CommandHeaders::from_request_parts(parts, state).await?;
        Ok(Asked(
            CommandContext::new(correlation.0)
                .by(principal)
                .expecting(headers.expected_version),
        ))
    }
}

/// The answer to a command that was carried out.
fn accepted(status: StatusCode, result: &CommandResult) -> Response {
    let mut response = (status, Json(result)).into_response();
    if let Ok(etag) = HeaderValue::from_str(&headers::etag(result.version)) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// Files a new complaint (OPEN).
///
/// With an `Idempotency-Key`, a retry with the same body gets the original answer again
/// (with `Idempotent-Replayed: true`) and creates nothing; the same key with another body
/// is refused (422 `IDEMPOTENCY_KEY_REUSED`). Keys are kept 24 hours.
#[utoipa::path(post, path = "/api/complaints", tag = "complaints",
    request_body = CreateComplaintRequest,
    params(
        ("Idempotency-Key" = Option<String>, Header, pattern = r"^[!-~]{1,255}$",
            description = "Makes retries safe: 1 to 255 visible characters"),
    ),
    responses(
        (status = 201, description = "Created", body = CommandResult, headers(
            ("Location" = String, description = "The new complaint"),
            ("ETag" = String, description = "Its version, quoted"))),
        (status = 400, description = "Malformed JSON or header", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Invalid or unknown fields, or a reused Idempotency-Key", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<ApiState>,
    Asked(context): Asked,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    Json(request): Json<CreateComplaintRequest>,
) -> Result<Response, ApiError> {
    let key = match key {
        Some(key) => Some(IdempotencyKey {
            key,
            request: serde_json::to_value(&request).map_err(ApiError::internal)?,
        }),
        None => None,
    };
    let command = request.into_command().map_err(ServiceError::from)?;
    let (result, replayed) = match state.commands.create(command, &context, key).await? {
        Created::New(result) => (result, false),
        Created::Replayed(result) => (result, true),
    };
    let mut response = accepted(StatusCode::CREATED, &result);
    let location = format!("/api/complaints/{}", result.id);
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    if replayed {
        response
            .headers_mut()
            .insert(headers::REPLAYED, HeaderValue::from_static("true"));
    }
    Ok(response)
}

async fn transition(
    state: &ApiState,
    id: Uuid,
    context: &CommandContext,
    command: Command,
) -> Result<Response, ApiError> {
    let result = state.commands.execute(id, command, context).await?;
    Ok(accepted(StatusCode::OK, &result))
}

/// Assigns the complaint to an agent (OPEN), or reassigns it (ASSIGNED, IN_PROGRESS).
#[utoipa::path(method(put, patch), path = "/api/complaints/{id}/assign", tag = "complaints",
    request_body = AssignRequest,
    params(ComplaintId, CommandHeadersDoc),
    responses(
        (status = 200, description = "Assigned", body = CommandResult),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn assign(
    State(state): State<ApiState>,
    ComplaintId(id): ComplaintId,
    Asked(context): Asked,
    Json(request): Json<AssignRequest>,
) -> Result<Response, ApiError> {
    let command = request.into_command().map_err(ServiceError::from)?;
    transition(&state, id, &context, command).await
}

/// The assignee starts working on it (ASSIGNED → IN_PROGRESS). The body may be empty.
#[utoipa::path(method(put, patch), path = "/api/complaints/{id}/process", tag = "complaints",
    request_body(content = Option<EmptyRequest>, description = "Empty, `null`, or `{}`"),
    params(ComplaintId, CommandHeadersDoc),
    responses(
        (status = 200, description = "In progress", body = CommandResult),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, description = "A body other than empty, `null` or `{}`", body = ErrorBody),
    ))]
pub async fn process(
    State(state): State<ApiState>,
    ComplaintId(id): ComplaintId,
    Asked(context): Asked,
    _body: OptionalJson<EmptyRequest>,
) -> Result<Response, ApiError> {
    transition(&state, id, &context, Command::Process).await
}

/// Records the resolution (IN_PROGRESS → RESOLVED).
#[utoipa::path(method(put, patch), path = "/api/complaints/{id}/resolve", tag = "complaints",
    request_body = ResolveRequest,
    params(ComplaintId, CommandHeadersDoc),
    responses(
        (status = 200, description = "Resolved", body = CommandResult),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn resolve(
    State(state): State<ApiState>,
    ComplaintId(id): ComplaintId,
    Asked(context): Asked,
    Json(request): Json<ResolveRequest>,
) -> Result<Response, ApiError> {
    let command = request.into_command().map_err(ServiceError::from)?;
    transition(&state, id, &context, command).await
}

/// Closes a resolved complaint (RESOLVED → CLOSED). The body may be empty.
#[utoipa::path(method(put, patch), path = "/api/complaints/{id}/close", tag = "complaints",
    request_body(content = Option<EmptyRequest>, description = "Empty, `null`, or `{}`"),
    params(ComplaintId, CommandHeadersDoc),
    responses(
        (status = 200, description = "Closed", body = CommandResult),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, description = "A body other than empty, `null` or `{}`", body = ErrorBody),
    ))]
pub async fn close(
    State(state): State<ApiState>,
    ComplaintId(id): ComplaintId,
    Asked(context): Asked,
    _body: OptionalJson<EmptyRequest>,
) -> Result<Response, ApiError> {
    transition(&state, id, &context, Command::Close).await
}

/// Reopens a resolved or closed complaint within the reopen window (back to its assignee,
/// or OPEN).
#[utoipa::path(method(put, patch), path = "/api/complaints/{id}/reopen", tag = "complaints",
    request_body = ReopenRequest,
    params(ComplaintId, CommandHeadersDoc),
    responses(
        (status = 200, description = "Reopened", body = CommandResult),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn reopen(
    State(state): State<ApiState>,
    ComplaintId(id): ComplaintId,
    Asked(context): Asked,
    Json(request): Json<ReopenRequest>,
) -> Result<Response, ApiError> {
    let command = request.into_command().map_err(ServiceError::from)?;
    transition(&state, id, &context, command).await
}

/// Changes the priority (not once CLOSED); the SLA deadline follows.
#[utoipa::path(method(put, patch), path = "/api/complaints/{id}/priority", tag = "complaints",
    request_body = ChangePriorityRequest,
    params(ComplaintId, CommandHeadersDoc),
    responses(
        (status = 200, description = "Priority changed", body = CommandResult),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn change_priority(
    State(state): State<ApiState>,
    ComplaintId(id): ComplaintId,
    Asked(context): Asked,
    Json(request): Json<ChangePriorityRequest>,
) -> Result<Response, ApiError> {
    let command = request.into_command().map_err(ServiceError::from)?;
    transition(&state, id, &context, command).await
}

/// The headers of the transition routes, for the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct CommandHeadersDoc {
    /// Act only if the complaint is at this version (its `ETag`, or the number); else 409.
    #[param(
        rename = "If-Match",
        pattern = r#"^(\*|(W/)?"[0-9]{1,18}"|[0-9]{1,18})$"#
    )]
    if_match: Option<String>,
}
