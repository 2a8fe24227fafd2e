//! The query routes: read only the projections (see `queries`).

use axum::{
    extract::State,
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shared::http::cursor::Keyset;
use shared::{
    auth::Principal,
    complaint::{Priority, Status},
    http::{ApiError, ErrorBody, Json, Query},
};
use utoipa::IntoParams;

use super::{
    headers::{self, MinVersionHeader},
    ApiState, ComplaintId,
};
use crate::{
    access::{self, ReadScope},
    error::ServiceError,
    listing::{self, Cursor, ListFilter},
    queries::{ComplaintDetails, ComplaintPage, Statistics},
};

/// Filters and paging of the list. Every filter is optional; they combine with AND. The
/// `pattern`s say what `parse` accepts (a cursor is the hex of `<micros>|<uuid>`), so that a
/// schema-valid request is never refused.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// One status or several, comma-separated (`OPEN,ASSIGNED`), in any case.
    #[param(
        pattern = "^ *(OPEN|ASSIGNED|IN_PROGRESS|RESOLVED|CLOSED)? *(, *(OPEN|ASSIGNED|IN_PROGRESS|RESOLVED|CLOSED)? *)*$"
    )]
    status: Option<String>,
    /// One priority or several, comma-separated.
    #[param(pattern = "^ *(LOW|MEDIUM|HIGH|CRITICAL)? *(, *(LOW|MEDIUM|HIGH|CRITICAL)? *)*$")]
    priority: Option<String>,
    #[param(max_length = 200)]
    category: Option<String>,
    /// The assignee's agent id.
    #[param(max_length = 200)]
    assignee: Option<String>,
    /// The customer's id.
    #[param(max_length = 200)]
    customer: Option<String>,
    /// Created at or after this instant (RFC 3339, e.g. `2024-05-01T00:00:00Z`).
    created_from: Option<DateTime<Utc>>,
    /// Created before this instant.
    created_to: Option<DateTime<Utc>>,
    /// Words to find in title or description, each as a prefix (`charg` finds "charged").
    #[param(max_length = 200)]
    q: Option<String>,
    /// The `nextCursor` of the previous page.
    #[param(
        pattern = "^(3[0-9]){1,16}7c(3[0-9]|6[1-6]){8}2d(3[0-9]|6[1-6]){4}2d(3[0-9]|6[1-6]){4}2d(3[0-9]|6[1-6]){4}2d(3[0-9]|6[1-6]){12}$"
    )]
    cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

impl ListParams {
    fn parse(self) -> Result<(ListFilter, Option<Cursor>, u32), ServiceError> {
        let search = listing::parse_text("q", self.q.as_deref())?;
        let filter = ListFilter {
            statuses: listing::parse_list(self.status.as_deref(), Status::parse_lenient)?,
            priorities: listing::parse_list(self.priority.as_deref(), Priority::parse_lenient)?,
            category: listing::parse_text("category", self.category.as_deref())?,
            assignee: listing::parse_text("assignee", self.assignee.as_deref())?,
            customer: listing::parse_text("customer", self.customer.as_deref())?,
            created_from: self.created_from,
            created_to: self.created_to,
            search: search.as_deref().and_then(listing::search_query),
        };
        let cursor = self.cursor.as_deref().map(Cursor::decode).transpose()?;
        Ok((filter, cursor, listing::parse_limit(self.limit)?))
    }
}

/// Lists complaints, newest first, one page at a time.
#[utoipa::path(get, path = "/api/complaints", tag = "complaints", params(ListParams),
    responses(
        (status = 200, body = ComplaintPage),
        (status = 400, description = "Malformed query or cursor", body = ErrorBody),
        (status = 422, description = "Unknown status or priority, limit out of range", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<ApiState>,
    reader: Principal,
    Query(params): Query<ListParams>,
) -> Result<Json<ComplaintPage>, ApiError> {
    let (mut filter, cursor, limit) = params.parse()?;
    let scope = access::read_scope(&reader);
    match &scope {
        ReadScope::All { .. } => {}
        // A customer's list is its own complaints, whatever `customer` it asked for.
        ReadScope::OwnComplaints(customer) => {
            if filter
                .customer
                .as_ref()
                .is_some_and(|asked| asked != customer)
            {
                return Ok(Json(ComplaintPage {
                    items: Vec::new(),
                    next_cursor: None,
                }));
            }
            filter.customer = Some(customer.clone());
        }
        ReadScope::Nothing => {
            return Ok(Json(ComplaintPage {
                items: Vec::new(),
                next_cursor: None,
            }))
        }
    }
    let mut page = state.queries.list(&filter, cursor, limit).await?;
    page.items = page.items.into_iter().map(|c| scope.redact(c)).collect();
    Ok(Json(page))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct GetParams {
    /// Read your own write: the `version` a command answered with. The read waits (up to
    /// 2 s by default) for the read model to reach it; if it does not, the answer is 503
    /// `READ_MODEL_BEHIND` with `Retry-After`, never an older state. A version no command
    /// has written is 409 `VERSION_NOT_WRITTEN` at once. Also accepted as `X-Min-Version`.
    #[param(minimum = 0)]
    min_version: Option<i64>,
}

/// A complaint with its timeline. `ETag` is its version.
#[utoipa::path(get, path = "/api/complaints/{id}", tag = "complaints",
    params(ComplaintId, GetParams,
        ("X-Min-Version" = Option<String>, Header, pattern = r"^[0-9]{1,18}$",
            description = "Same as minVersion")),
    responses(
        (status = 200, body = ComplaintDetails, headers(
            ("ETag" = String, description = "The version shown, quoted"))),
        (status = 400, description = "minVersion or X-Min-Version is not a version number", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`VERSION_NOT_WRITTEN`: the complaint has not reached \
            minVersion; `Retry-After` says when to look again", body = ErrorBody,
            headers(("Retry-After" = String, description = "Seconds"))),
        (status = 422, description = "minVersion is negative", body = ErrorBody),
        (status = 503, description = "`READ_MODEL_BEHIND`: minVersion is written but the read \
            model did not reach it in time; or a dependency is unavailable", body = ErrorBody,
            headers(("Retry-After" = String, description = "Seconds"))),
    ))]
pub async fn get_one(
    State(state): State<ApiState>,
    reader: Principal,
    ComplaintId(id): ComplaintId,
    MinVersionHeader(header_version): MinVersionHeader,
    Query(params): Query<GetParams>,
) -> Result<Response, ApiError> {
    if params.min_version.is_some_and(|v| v < 0) {
        return Err(ApiError::validation("minVersion", "must not be negative"));
    }
    let min_version = params.min_version.max(header_version);
    let scope = access::read_scope(&reader);
    let mut details = state.queries.get(id, min_version).await?;
    // Another customer's complaint is answered as if it did not exist.
    if !scope.shows(&details.complaint) {
        return Err(ServiceError::NotFound(id).into());
    }
    details.complaint = scope.redact(details.complaint);
    for entry in &mut details.timeline {
        scope.redact_data(&mut entry.data);
    }
    let version = details.complaint.version;
    let mut response = Json(details).into_response();
    if let Ok(etag) = HeaderValue::from_str(&headers::etag(version)) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    Ok(response)
}

/// Counts by status and priority, resolution time and overdue complaints.
#[utoipa::path(get, path = "/api/complaints/statistics", tag = "complaints",
    responses((status = 200, body = Statistics)))]
pub async fn statistics(State(state): State<ApiState>) -> Result<Json<Statistics>, ApiError> {
    Ok(Json(state.queries.statistics().await?))
}
