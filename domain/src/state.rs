//! A complaint as its events leave it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{priority::Priority, status::Status, values::AgentId};
// For the link in `Complaint`'s doc comment, which is also its OpenAPI description.
#[cfg(doc)]
use crate::evolve::evolve;

/// The state of one complaint, folded from its events by [`evolve`]. Version 0 is the state
/// of a complaint not created yet ([`Complaint::empty`]); every event adds one.
///
/// The descriptive text (title, customer, …) is kept as plain strings: it was validated when
/// the complaint was created, and `decide` never reasons about it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Complaint {
    pub id: String,
    /// How many events the complaint has; the `metadata.version` of its latest event.
    pub version: i64,
    pub status: Status,
    pub priority: Priority,
    pub category: String,
    pub title: String,
    pub description: String,
    pub customer_id: String,
    pub customer_name: String,
    pub customer_email: String,
    pub assignee: Option<AgentId>,
    /// How many times the SLA timer escalated it.
    pub escalation_level: u32,
    pub reopen_count: u32,
    /// The latest resolution; cleared when the complaint is reopened.
    pub resolution: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// When the SLA clock last started: at creation, and again at each escalation or reopening.
    pub sla_started_at: Option<DateTime<Utc>>,
    /// When it must be resolved by; meaningful while the status is unresolved.
    pub sla_deadline: Option<DateTime<Utc>>,
}

impl Complaint {
    /// The complaint `id` before its first event: the state a `Create` is decided against.
    pub fn empty(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            ..Self::default()
        }
    }

    pub fn exists(&self) -> bool {
        self.version > 0
    }

    /// Unresolved and past its SLA deadline: the SLA timer should escalate it.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.exists()
            && self.status.is_unresolved()
            && self.sla_deadline.is_some_and(|deadline| deadline <= now)
    }
}
