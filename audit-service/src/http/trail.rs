//! `GET /api/audit/trail/{aggregateId}`: one aggregate's history, in the order it happened.

use super::{
    params::{PageParams, MAX_LIMIT},
    views::{with_marks, TrailView},
    AuditApi,
};
use crate::{cursor::Cursor, error::AuditError, query::PageRequest};
use axum::extract::State;
use shared::http::cursor::Keyset;
use shared::http::{ErrorBody, Json, Path, Query};

/// The entries of one aggregate (a complaint, a notification, a saga…), chronological
/// (event time, then sequence), each with its compensation marks.
#[utoipa::path(
    get,
    path = "/api/audit/trail/{aggregateId}",
    tag = "audit",
    params(
        ("aggregateId" = String, Path, description = "The aggregate's id"),
        ("cursor" = Option<String>, Query, pattern = "^747c(3[0-9]){1,15}7c(3[0-9]){1,18}$",
            description = "The `nextCursor` of the previous page"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 200,
            description = "Entries per page, 1 to 200 (default 200)"),
    ),
    responses(
        (status = 200, description = "The aggregate's entries", body = TrailView),
        (status = 400, description = "A bad parameter", body = ErrorBody),
        (status = 404, description = "No entry of this aggregate is recorded", body = ErrorBody),
    )
)]
pub async fn trail(
    State(api): State<AuditApi>,
    Path(aggregate_id): Path<String>,
    Query(params): Query<PageParams>,
) -> Result<Json<TrailView>, AuditError> {
    let (cursor, limit) = params.page(MAX_LIMIT)?;
    let after = cursor.map(Cursor::time).transpose()?;
    let page = api
        .store
        .trail(&aggregate_id, PageRequest { after, limit })
        .await?;
    if page.items.is_empty() && after.is_none() {
        return Err(AuditError::NotFound(format!(
            "no audit entry of aggregate {aggregate_id:?} is recorded"
        )));
    }
    let next_cursor = page
        .has_more
        .then(|| page.items.last())
        .flatten()
        .map(|last| {
            Cursor::Time {
                at: last.content.occurred_at,
                sequence: last.content.sequence,
            }
            .encode()
        });
    Ok(Json(TrailView {
        aggregate_id,
        entries: with_marks(&api.store, page.items).await?,
        next_cursor,
    }))
}
