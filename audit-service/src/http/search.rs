//! `GET /api/audit/search` and `GET /api/audit/events`: entries latest first, filtered or
//! not, a page at a time.

use super::{
    params::{PageParams, SearchParams},
    views::{with_marks, EntryPage},
    AuditApi,
};
use crate::{
    cursor::Cursor,
    entry::StoredEntry,
    error::AuditError,
    query::{EntryFilter, Page, PageRequest},
};
use axum::extract::State;
use shared::http::cursor::Keyset;
use shared::http::{ErrorBody, Json, Query};

const DEFAULT_LIMIT: u32 = 50;

/// Entries meeting every filter given, latest recorded first.
#[utoipa::path(
    get,
    path = "/api/audit/search",
    tag = "audit",
    params(SearchParams),
    responses(
        (status = 200, description = "A page of matching entries", body = EntryPage),
        (status = 400, description = "A bad or unknown parameter", body = ErrorBody),
    )
)]
pub async fn search(
    State(api): State<AuditApi>,
    Query(params): Query<SearchParams>,
) -> Result<Json<EntryPage>, AuditError> {
    let filter = params.filter()?;
    let (cursor, limit) = params.page(DEFAULT_LIMIT)?;
    page_of(&api, &filter, cursor, limit).await
}

/// Every entry, latest recorded first.
#[utoipa::path(
    get,
    path = "/api/audit/events",
    tag = "audit",
    params(PageParams),
    responses(
        (status = 200, description = "A page of entries", body = EntryPage),
        (status = 400, description = "A bad or unknown parameter", body = ErrorBody),
    )
)]
pub async fn events(
    State(api): State<AuditApi>,
    Query(params): Query<PageParams>,
) -> Result<Json<EntryPage>, AuditError> {
    let (cursor, limit) = params.page(DEFAULT_LIMIT)?;
    page_of(&api, &EntryFilter::default(), cursor, limit).await
}

async fn page_of(
    api: &AuditApi,
    filter: &EntryFilter,
    cursor: Option<Cursor>,
    limit: u32,
) -> Result<Json<EntryPage>, AuditError> {
    let after = cursor.map(Cursor::sequence).transpose()?;
    let page: Page<StoredEntry> = api
        .store
        .search(filter, PageRequest { after, limit })
        .await?;
    let next_cursor = page
        .has_more
        .then(|| page.items.last())
        .flatten()
        .map(|last| Cursor::Sequence(last.content.sequence).encode());
    Ok(Json(EntryPage {
        entries: with_marks(&api.store, page.items).await?,
        next_cursor,
    }))
}
