//! The facts `decide` records about a complaint: one variant per complaint event type of the
//! catalogue, each with the data a reader needs (camelCase JSON in the envelope's
//! `eventData`). When and by whom live in the envelope's metadata, not here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    priority::Priority,
    values::{AgentId, Category, ComplaintTitle, Customer, Description, Reason, Resolution},
};

#[derive(Debug, Clone, PartialEq)]
pub enum ComplaintEvent {
    Created(ComplaintCreated),
    Assigned(ComplaintAssigned),
    Processed(ComplaintProcessed),
    Resolved(ComplaintResolved),
    Closed(ComplaintClosed),
    Reopened(ComplaintReopened),
    PriorityChanged(ComplaintPriorityChanged),
    Escalated(ComplaintEscalated),
    CompensationRequired(ComplaintCompensationRequired),
    AssignmentReverted(ComplaintAssignmentReverted),
}

/// `COMPLAINT_CREATED`: a new complaint, OPEN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ComplaintCreated {
    pub title: ComplaintTitle,
    pub description: Description,
    pub category: Category,
    pub priority: Priority,
    pub customer: Customer,
    /// When it must be resolved by, under the SLA in force at creation.
    pub sla_deadline: DateTime<Utc>,
}

/// `COMPLAINT_ASSIGNED`: assigned, or reassigned from `previousAgentId`; now ASSIGNED.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ComplaintAssigned {
    pub agent_id: AgentId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_agent_id: Option<AgentId>,
}

/// `COMPLAINT_PROCESSED`: the assignee started working on it; now IN_PROGRESS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ComplaintProcessed {
    pub agent_id: AgentId,
}

/// `COMPLAINT_RESOLVED`: now RESOLVED.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ComplaintResolved {
    pub resolution: Resolution,
    /// The assignee at the time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<AgentId>,
}

/// `COMPLAINT_CLOSED`: now CLOSED. Its data is `{}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplaintClosed {}

/// `COMPLAINT_REOPENED`: back to `agentId` (ASSIGNED), or OPEN if there is none; the SLA
/// clock starts again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ComplaintReopened {
    pub reason: Reason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    pub sla_deadline: DateTime<Utc>,
}

/// `COMPLAINT_PRIORITY_CHANGED`, with the deadline recomputed for the new priority.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ComplaintPriorityChanged {
    pub from: Priority,
    pub to: Priority,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    pub sla_deadline: DateTime<Utc>,
}

/// `COMPLAINT_ESCALATED`: the SLA deadline passed; one priority level up (CRITICAL stays),
/// and a fresh deadline for the new priority.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ComplaintEscalated {
    pub from: Priority,
    pub to: Priority,
    /// How many times the complaint has been escalated, this one included.
    pub escalation_level: u32,
    pub sla_deadline: DateTime<Utc>,
}

/// `COMPLAINT_COMPENSATION_REQUIRED`: a saga step failed for the assignment of `agentId`;
/// the services involved undo their part. The status does not change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ComplaintCompensationRequired {
    pub agent_id: AgentId,
    pub reason: Reason,
    /// The saga step that failed, e.g. `NOTIFY_ASSIGNEE`.
    pub failed_step: String,
}

/// `COMPLAINT_ASSIGNMENT_REVERTED`: the assignment of `agentId` is undone; back to OPEN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ComplaintAssignmentReverted {
    pub agent_id: AgentId,
    pub reason: Reason,
}
