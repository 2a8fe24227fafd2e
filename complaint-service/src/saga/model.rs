//! What the service remembers about a saga: its kind, where it stands, and each step.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The three choreographed sagas of DESIGN.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SagaKind {
    /// COMPLAINT_CREATED → the complainant is told we have it.
    Acknowledgement,
    /// COMPLAINT_ASSIGNED → the assignee is told; if that fails the assignment is undone.
    Assignment,
    /// COMPLAINT_ESCALATED (SLA deadline passed) → the supervisors are told.
    Escalation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SagaStatus {
    Running,
    Completed,
    Failed,
    Compensating,
    Compensated,
}

impl SagaStatus {
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Compensated)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "RUNNING",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
            Self::Compensating => "COMPENSATING",
            Self::Compensated => "COMPENSATED",
        }
    }
}

impl SagaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Acknowledgement => "ACKNOWLEDGEMENT",
            Self::Assignment => "ASSIGNMENT",
            Self::Escalation => "ESCALATION",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StepStatus {
    Pending,
    Completed,
    Failed,
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
}

impl Saga {
    pub fn step(&self, name: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.name == name)
    }

    pub(super) fn step_mut(&mut self, name: &str) -> Option<&mut Step> {
        self.steps.iter_mut().find(|s| s.name == name)
    }
}
