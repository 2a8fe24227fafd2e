//! `GET /api/notifications`, `GET /api/notifications/{id}`: the delivery history.

use super::{error::Error, AppState};
use crate::{
    model::{Audience, Channel, NotificationStatus, Step},
    notification::Notification,
    store::{self, notifications::HistoryFilter},
};
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shared::{
    auth::{Principal, Role},
    http::{ErrorBody, Json, Path, Query},
};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 500;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// Only the notifications about this complaint.
    #[param(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F\x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F]*$"
    )]
    complaint_id: Option<String>,
    status: Option<NotificationStatus>,
    step: Option<Step>,
    /// The `nextBefore` of the previous page: only older notifications.
    before: Option<Uuid>,
    /// At most this many (1 to 500, default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

/// One notification in the history.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationView {
    pub id: Uuid,
    pub complaint_id: String,
    pub step: Step,
    pub audience: Audience,
    /// The e-mail address; for an agent the directory does not know, the agent's id.
    pub recipient: String,
    pub recipient_name: String,
    pub channel: Channel,
    pub status: NotificationStatus,
    /// Delivery attempts so far.
    pub attempts: u32,
    pub subject: String,
    /// The message text (in `GET /api/notifications/{id}` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The agent the notification is about, if any.
    pub agent_id: Option<String>,
    pub triggering_event_id: Uuid,
    pub triggering_event_type: String,
    pub correlation_id: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    /// While pending: when the next attempt is due.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The error of the latest failed attempt.
    pub last_error: Option<String>,
    /// Why it failed for good (or was cancelled).
    pub failure_reason: Option<String>,
    /// When a compensation withdrew it.
    pub retracted_at: Option<DateTime<Utc>>,
}

impl NotificationView {
    fn of(n: Notification, with_body: bool) -> Self {
        Self {
            id: n.id,
            complaint_id: n.complaint_id,
            step: n.step,
            audience: n.audience,
            recipient: n.recipient,
            recipient_name: n.recipient_name,
            channel: n.channel,
            status: n.status,
            attempts: n.attempts,
            subject: n.subject,
            body: with_body.then_some(n.body),
            agent_id: n.agent_id,
            triggering_event_id: n.cause.event_id,
            triggering_event_type: n.cause.event_type,
            correlation_id: n.cause.correlation_id,
            created_at: n.created_at,
            sent_at: n.sent_at,
            failed_at: n.failed_at,
            next_attempt_at: (n.status == NotificationStatus::Pending).then_some(n.next_attempt_at),
            last_error: n.last_error,
            failure_reason: n.failure_reason,
            retracted_at: n.retracted_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationList {
    /// Newest first.
    pub items: Vec<NotificationView>,
    /// Pass as `before` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_before: Option<Uuid>,
}

fn filter(params: HistoryParams) -> Result<HistoryFilter, Error> {
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Error::invalid(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        ));
    }
    let complaint_id = match params.complaint_id {
        Some(id) if id.trim().is_empty() => {
            return Err(Error::invalid("complaintId", "must not be empty"))
        }
        other => other,
    };
    Ok(HistoryFilter {
        complaint_id,
        status: params.status,
        step: params.step,
        before: params.before,
        limit,
    })
}

/// Notifications, newest first, optionally about one complaint.
#[utoipa::path(get, path = "/api/notifications", tag = "notifications", params(HistoryParams),
    responses(
        (status = 200, body = NotificationList),
        (status = 400, description = "A malformed or unknown parameter", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    reader: Principal,
    Query(params): Query<HistoryParams>,
) -> Result<Json<NotificationList>, Error> {
    let filter = filter(params)?;
    let customer = customer_only(&reader);
    if let Some(customer) = &customer {
        let Some(complaint) = &filter.complaint_id else {
            return Err(Error::Forbidden(
                "a customer reads the notifications of one of its complaints: pass complaintId",
            ));
        };
        check_owner(&state, complaint, customer).await?;
    }
    let mut found = store::notifications::history(&state.pool, &filter).await?;
    let next_before = if found.len() as i64 == filter.limit {
        found.last().map(|n| n.id)
    } else {
        None
    };
    if customer.is_some() {
        // Its own messages: not those to the staff (their addresses, their instructions).
        found.retain(|n| n.audience == Audience::Complainant);
    }
    let items = found
        .into_iter()
        .map(|n| NotificationView::of(n, false))
        .collect();
    Ok(Json(NotificationList { items, next_before }))
}

/// The customer id of a reader who reads as a customer only (no staff role).
fn customer_only(reader: &Principal) -> Option<String> {
    if reader.has(Role::Supervisor) {
        return None;
    }
    Some(reader.customer_id.clone().unwrap_or_default())
}

/// Another customer's complaint (or one this service does not know) is 404 to a customer.
async fn check_owner(state: &AppState, complaint: &str, customer: &str) -> Result<(), Error> {
    match store::complaints::customer_of(&state.pool, complaint).await? {
        Some(owner) if !customer.is_empty() && owner == customer => Ok(()),
        _ => Err(Error::NotFound {
            what: "complaint",
            id: complaint.to_owned(),
        }),
    }
}

/// One notification, with its message text.
#[utoipa::path(get, path = "/api/notifications/{id}", tag = "notifications",
    params(("id" = Uuid, Path, description = "The notification's id")),
    responses(
        (status = 200, body = NotificationView),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn get(
    State(state): State<AppState>,
    reader: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<NotificationView>, Error> {
    let not_found = || Error::NotFound {
        what: "notification",
        id: id.to_string(),
    };
    let notification = store::notifications::get(&state.pool, id)
        .await?
        .ok_or_else(not_found)?;
    if let Some(customer) = customer_only(&reader) {
        if notification.audience != Audience::Complainant {
            return Err(not_found());
        }
        check_owner(&state, &notification.complaint_id, &customer)
            .await
            .map_err(|_| not_found())?;
    }
    Ok(Json(NotificationView::of(notification, true)))
}
