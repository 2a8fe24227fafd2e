//! Compensation of a failed saga step in the trail.
//!
//! Hashed entries are never rewritten: a compensation is a set of marks laid over them.
//!
//! **Which entries a COMPLAINT_COMPENSATION_REQUIRED marks.** Its data names the agent whose
//! assignment failed (`agentId`), why (`reason`) and the saga step that failed
//! (`failedStep`, e.g. `NOTIFY_ASSIGNEE`); what is undone is that assignment. So the
//! compensated step is:
//! 1. its *anchor*: the latest COMPLAINT_ASSIGNED entry of the same complaint whose
//!    `agentId` is that agent and whose timestamp is not after the compensation request's;
//! 2. and every entry the anchor caused, directly or not (following `causationId` links:
//!    the assignee's and the complainant's notifications, their failures, saga steps…),
//! 3. except the compensation request itself and what it caused (the revert, the
//!    notification retraction, this service's own AUDIT_COMPENSATION): those are the
//!    compensation, not the step.
//!
//! Events can reach the trail in another order than they happened (retries, several
//! instances). So the set is computed again, by the same rule, whenever an entry arrives
//! that could belong to it (a COMPLAINT_ASSIGNED of the same complaint, or an entry caused
//! by an entry already marked); marks are only ever added. Each time new entries are marked,
//! an AUDIT_COMPENSATION lists them (the first one is published even if it marks nothing, so
//! the saga hears that the audit trail has done its part).

use chrono::{DateTime, Utc};
use shared::{
    complaint::{ComplaintEvent, DecodeError},
    event::{audit::AuditCompensation, to_data, Envelope, EventType, Metadata},
};
use uuid::Uuid;

use crate::{config::SERVICE, entry::to_micros};

/// The `aggregateType` of AUDIT_COMPENSATION events: one aggregate per compensation request,
/// its id being the request's event id, so the events of one compensation form a stream.
pub const AGGREGATE_TYPE: &str = "AuditCompensation";

/// A COMPLAINT_COMPENSATION_REQUIRED, as far as the trail is concerned.
#[derive(Debug, Clone, PartialEq)]
pub struct CompensationRequest {
    /// The COMPLAINT_COMPENSATION_REQUIRED event.
    pub event_id: Uuid,
    pub complaint_id: String,
    pub agent_id: String,
    pub reason: String,
    pub failed_step: String,
    pub correlation_id: String,
    pub requested_at: DateTime<Utc>,
}

impl CompensationRequest {
    /// The request an envelope carries: `Ok(None)` for any other event type, an error if a
    /// COMPLAINT_COMPENSATION_REQUIRED does not have the shape of one.
    pub fn from_envelope(envelope: &Envelope) -> Result<Option<Self>, DecodeError> {
        if envelope.known_type() != Some(EventType::ComplaintCompensationRequired) {
            return Ok(None);
        }
        let Some(ComplaintEvent::CompensationRequired(data)) =
            ComplaintEvent::from_envelope(envelope)?
        else {
            return Ok(None);
        };
        Ok(Some(Self {
            event_id: envelope.event_id,
            complaint_id: envelope.aggregate_id.clone(),
            agent_id: data.agent_id.as_str().to_owned(),
            reason: data.reason.as_str().to_owned(),
            failed_step: data.failed_step,
            correlation_id: envelope.metadata.correlation_id.clone(),
            requested_at: to_micros(envelope.metadata.timestamp),
        }))
    }
}

/// A mark on an entry: it belongs to a step that `compensating_event_id` compensated.
#[derive(Debug, Clone, PartialEq)]
pub struct CompensationMark {
    pub entry_event_id: Uuid,
    /// The COMPLAINT_COMPENSATION_REQUIRED event.
    pub compensating_event_id: Uuid,
    pub reason: String,
    pub failed_step: String,
    pub compensated_at: DateTime<Utc>,
}

/// An entry newly marked compensated, as AUDIT_COMPENSATION lists it.
pub use shared::event::audit::CompensatedEntry as MarkedEntry;

/// The AUDIT_COMPENSATION announcing `marked`, the `version`-th one for `request`.
pub fn announcement(
    request: &CompensationRequest,
    marked: &[MarkedEntry],
    version: i64,
    now: DateTime<Utc>,
) -> Envelope {
    let metadata = Metadata::new(SERVICE, request.correlation_id.clone(), now)
        .with_version(version)
        .with_causation(request.event_id.to_string());
    Envelope::new(
        EventType::AuditCompensation,
        request.event_id.to_string(),
        AGGREGATE_TYPE,
        to_data(&AuditCompensation {
            compensation_event_id: request.event_id,
            complaint_id: request.complaint_id.clone(),
            agent_id: request.agent_id.clone(),
            reason: request.reason.clone(),
            failed_step: request.failed_step.clone(),
            compensated_entries: marked.to_vec(),
        }),
        metadata,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        "2024-05-01T10:00:00Z".parse().unwrap()
    }

    fn required(data: serde_json::Value) -> Envelope {
        Envelope::new(
            EventType::ComplaintCompensationRequired,
            "c-1",
            "Complaint",
            data,
            Metadata::new("complaint-service", "saga-1".into(), now()).with_version(4),
        )
    }

    #[test]
    fn a_compensation_required_event_is_read_as_a_request() {
        let envelope = required(
            json!({ "agentId": "ghost", "reason": "unknown agent", "failedStep": "NOTIFY_ASSIGNEE" }),
        );
        let request = CompensationRequest::from_envelope(&envelope)
            .unwrap()
            .unwrap();
        assert_eq!(
            request,
            CompensationRequest {
                event_id: envelope.event_id,
                complaint_id: "c-1".into(),
                agent_id: "ghost".into(),
                reason: "unknown agent".into(),
                failed_step: "NOTIFY_ASSIGNEE".into(),
                correlation_id: "saga-1".into(),
                requested_at: now(),
            }
        );
    }

    #[test]
    fn other_events_are_no_request() {
        let envelope = Envelope::new(
            EventType::ComplaintAssigned,
            "c-1",
            "Complaint",
            json!({ "agentId": "a" }),
            Metadata::new("complaint-service", "x".into(), now()),
        );
        assert_eq!(CompensationRequest::from_envelope(&envelope).unwrap(), None);
    }

    #[test]
    fn a_malformed_request_is_an_error() {
        let envelope = required(json!({ "reason": "no agent id" }));
        assert!(CompensationRequest::from_envelope(&envelope).is_err());
    }

    #[test]
    fn the_announcement_lists_the_marked_entries_and_points_at_the_request() {
        let request = CompensationRequest::from_envelope(&required(
            json!({ "agentId": "ghost", "reason": "unknown agent", "failedStep": "NOTIFY_ASSIGNEE" }),
        ))
        .unwrap()
        .unwrap();
        let marked = [MarkedEntry {
            sequence: 3,
            event_id: Uuid::from_u128(3),
            event_type: "COMPLAINT_ASSIGNED".into(),
        }];
        let event = announcement(&request, &marked, 1, now());
        assert_eq!(event.known_type(), Some(EventType::AuditCompensation));
        assert_eq!(event.aggregate_id, request.event_id.to_string());
        assert_eq!(event.aggregate_type, AGGREGATE_TYPE);
        assert_eq!(event.metadata.source, SERVICE);
        assert_eq!(event.metadata.correlation_id, "saga-1");
        assert_eq!(
            event.metadata.causation_id,
            Some(request.event_id.to_string())
        );
        assert_eq!(
            event.event_data["compensatedEntries"],
            json!([{ "sequence": 3, "eventId": Uuid::from_u128(3), "eventType": "COMPLAINT_ASSIGNED" }])
        );
        assert_eq!(event.event_data["complaintId"], "c-1");
        assert_eq!(event.event_data["failedStep"], "NOTIFY_ASSIGNEE");
    }
}
