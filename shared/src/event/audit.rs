//! The payload audit-service publishes on `audit.events`: AUDIT_COMPENSATION, each time a
//! compensation marks entries of the trail (the first one even if it marks none, so the saga
//! hears that the trail has done its part). A saga reads [`super::CompensationDone`] of it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The data of AUDIT_COMPENSATION.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditCompensation {
    /// The COMPLAINT_COMPENSATION_REQUIRED event.
    pub compensation_event_id: Uuid,
    pub complaint_id: String,
    pub agent_id: String,
    pub reason: String,
    /// As COMPLAINT_COMPENSATION_REQUIRED named it, e.g. `NOTIFY_ASSIGNEE`.
    pub failed_step: String,
    /// The entries newly marked compensated by this announcement.
    pub compensated_entries: Vec<CompensatedEntry>,
}

/// An entry of the trail newly marked compensated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompensatedEntry {
    pub sequence: i64,
    pub event_id: Uuid,
    pub event_type: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::CompensationDone;
    use serde_json::json;

    #[test]
    fn an_audit_compensation_is_written_in_camel_case_and_read_by_the_saga() {
        let compensation = AuditCompensation {
            compensation_event_id: Uuid::from_u128(1),
            complaint_id: "c-1".into(),
            agent_id: "ghost".into(),
            reason: "unknown agent".into(),
            failed_step: "NOTIFY_ASSIGNEE".into(),
            compensated_entries: vec![CompensatedEntry {
                sequence: 3,
                event_id: Uuid::from_u128(3),
                event_type: "COMPLAINT_ASSIGNED".into(),
            }],
        };
        let value = serde_json::to_value(&compensation).unwrap();
        assert_eq!(
            value,
            json!({
                "compensationEventId": Uuid::from_u128(1), "complaintId": "c-1",
                "agentId": "ghost", "reason": "unknown agent", "failedStep": "NOTIFY_ASSIGNEE",
                "compensatedEntries": [
                    { "sequence": 3, "eventId": Uuid::from_u128(3), "eventType": "COMPLAINT_ASSIGNED" }
                ],
            })
        );
        assert_eq!(
            serde_json::from_value::<CompensationDone>(value.clone()).unwrap(),
            CompensationDone {
                complaint_id: "c-1".into()
            }
        );
        assert_eq!(
            serde_json::from_value::<AuditCompensation>(value).unwrap(),
            compensation
        );
    }
}
