//! What the service remembers about a saga: its kind, where it stands, and each step.

use super::policy::Reply;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shared::complaint::ValidationError;
use uuid::Uuid;

shared::wire_enum!(
    /// The three choreographed sagas of DESIGN.md.
    #[derive(utoipa::ToSchema)]
    SagaKind, "SCREAMING_SNAKE_CASE" {
        /// COMPLAINT_CREATED → the complainant is told we have it.
        Acknowledgement => "ACKNOWLEDGEMENT",
        /// COMPLAINT_ASSIGNED → the assignee is told; if that fails the assignment is undone.
        Assignment => "ASSIGNMENT",
        /// COMPLAINT_ESCALATED (SLA deadline passed) → the supervisors are told.
        Escalation => "ESCALATION",
    }
);

shared::wire_enum!(
    #[derive(utoipa::ToSchema)]
    SagaStatus, "SCREAMING_SNAKE_CASE" {
        Running => "RUNNING",
        Completed => "COMPLETED",
        Failed => "FAILED",
        Compensating => "COMPENSATING",
        Compensated => "COMPENSATED",
        /// Closed by an operator, with a reason; nothing resumes it.
        Abandoned => "ABANDONED",
    }
);

shared::wire_enum!(
    #[derive(utoipa::ToSchema)]
    StepStatus, "SCREAMING_SNAKE_CASE" {
        Pending => "PENDING",
        Completed => "COMPLETED",
        Failed => "FAILED",
    }
);

impl SagaStatus {
    /// Nothing more happens on its own (a FAILED saga may still be retried or abandoned).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Failed | Self::Compensated | Self::Abandoned
        )
    }

    /// `failed` or `FAILED`, as in the list's `status` filter.
    pub fn parse_filter(raw: &str) -> Result<Self, ValidationError> {
        parse_filter(Self::ALL, raw)
            .ok_or_else(|| ValidationError::new("status", format!("unknown saga status {raw:?}")))
    }
}

impl SagaKind {
    /// `assignment` or `ASSIGNMENT`, as in the list's `type` filter.
    pub fn parse_filter(raw: &str) -> Result<Self, ValidationError> {
        parse_filter(Self::ALL, raw)
            .ok_or_else(|| ValidationError::new("type", format!("unknown saga type {raw:?}")))
    }
}

/// The value of `all` whose wire name `raw` is, in any case and with spaces around: a filter
/// is typed by hand.
fn parse_filter<T: Copy + std::fmt::Display>(all: &[T], raw: &str) -> Option<T> {
    let wanted = raw.trim();
    all.iter()
        .copied()
        .find(|value| value.to_string().eq_ignore_ascii_case(wanted))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub name: String,
    pub status: StepStatus,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Why it failed, or what answered it.
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Saga {
    pub saga_id: Uuid,
    pub kind: SagaKind,
    pub complaint_id: String,
    pub status: SagaStatus,
    pub correlation_id: String,
    /// The complaint event that started it; replies name it as their causation.
    pub trigger_event_id: Uuid,
    /// The COMPLAINT_COMPENSATION_REQUIRED event, once compensation started.
    pub compensation_event_id: Option<Uuid>,
    /// The agent an assignment saga is about.
    pub agent_id: Option<String>,
    pub steps: Vec<Step>,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The pending step fails if nothing answers by then.
    pub deadline: Option<DateTime<Utc>>,
    /// SAGA_* events announced so far: the version of the saga's own event stream.
    pub version: i64,
    /// 1, then one more each time the saga is resumed (SAGA_RETRIED).
    #[serde(default = "first_attempt")]
    pub attempt: u32,
    /// Answers that came after the saga had failed; a retry starts from them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub late_replies: Vec<Reply>,
    /// Why an operator abandoned it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abandon_reason: Option<String>,
    /// Why it FAILED, while it stays failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
}

/// How a saga failed, and whether a retry can help.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    pub step: String,
    pub reason: String,
    /// It failed for want of an answer (a retry waits again), rather than by a participant's
    /// refusal or the complaint refusing its compensation.
    pub retryable: bool,
}

fn first_attempt() -> u32 {
    1
}

impl Saga {
    pub fn step(&self, name: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.name == name)
    }

    pub(super) fn step_mut(&mut self, name: &str) -> Option<&mut Step> {
        self.steps.iter_mut().find(|s| s.name == name)
    }
}
