//! Typed payloads (`eventData`) of the saga events ([`SagaChanged`]) and of the saga recovery
//! events. The audit trail and the event
//! store keep them as published; readers decode them with serde and treat a payload that does
//! not decode as malformed, never as defaults.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

crate::wire_enum!(
    /// Who resumed a saga.
    #[derive(ToSchema)]
    RetryInitiator, "SCREAMING_SNAKE_CASE" {
        /// Someone asked for it (`POST /api/sagas/{id}/retry`).
        Operator => "OPERATOR",
        /// The saga clock found the step overdue and resumed it on its own.
        Recovery => "RECOVERY",
    }
);

/// SAGA_STARTED, SAGA_STEP_COMPLETED, SAGA_COMPLETED, SAGA_FAILED, SAGA_COMPENSATED: the
/// saga as the change leaves it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SagaChanged {
    pub saga_id: Uuid,
    /// ACKNOWLEDGEMENT, ASSIGNMENT or ESCALATION.
    pub saga_type: String,
    pub complaint_id: String,
    /// The saga's status after the change.
    pub status: String,
    /// The step that changed (SAGA_STEP_COMPLETED, SAGA_FAILED), or the one whose completion
    /// ended the saga (SAGA_COMPLETED, SAGA_COMPENSATED: no SAGA_STEP_COMPLETED is announced
    /// for a saga's last step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// Why it failed (SAGA_FAILED).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// SAGA_RETRIED: the saga waits again at `step`, same saga id, attempt `attempt`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SagaRetried {
    pub saga_id: Uuid,
    /// ACKNOWLEDGEMENT, ASSIGNMENT or ESCALATION.
    pub saga_type: String,
    pub complaint_id: String,
    /// The saga's status once resumed (RUNNING, or COMPENSATING for a compensation step).
    pub status: String,
    /// The step it resumes at.
    pub step: String,
    /// 2 for the first retry.
    pub attempt: u32,
    pub initiated_by: RetryInitiator,
    /// Why the previous attempt stopped.
    pub previous_failure: String,
}

/// SAGA_ABANDONED: the saga is closed for good; nothing will resume it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SagaAbandoned {
    pub saga_id: Uuid,
    pub saga_type: String,
    pub complaint_id: String,
    /// Always ABANDONED.
    pub status: String,
    /// The step it stood at, if any was pending or failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    pub attempt: u32,
    /// What the operator gave as the reason.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_retry_is_written_in_camel_case_and_read_back() {
        let retried = SagaRetried {
            saga_id: Uuid::nil(),
            saga_type: "ACKNOWLEDGEMENT".into(),
            complaint_id: "c-1".into(),
            status: "RUNNING".into(),
            step: "acknowledge-complainant".into(),
            attempt: 2,
            initiated_by: RetryInitiator::Operator,
            previous_failure: "no answer".into(),
        };
        let value = serde_json::to_value(&retried).unwrap();
        assert_eq!(value["initiatedBy"], "OPERATOR");
        assert_eq!(value["previousFailure"], "no answer");
        assert_eq!(
            serde_json::from_value::<SagaRetried>(value).unwrap(),
            retried
        );
    }

    #[test]
    fn a_change_names_its_step_and_reason_only_when_it_has_them() {
        let completed = SagaChanged {
            saga_id: Uuid::nil(),
            saga_type: "ACKNOWLEDGEMENT".into(),
            complaint_id: "c-1".into(),
            status: "COMPLETED".into(),
            step: None,
            reason: None,
        };
        assert_eq!(
            serde_json::to_value(&completed).unwrap(),
            json!({ "sagaId": Uuid::nil(), "sagaType": "ACKNOWLEDGEMENT",
                "complaintId": "c-1", "status": "COMPLETED" })
        );
        let failed = SagaChanged {
            status: "FAILED".into(),
            step: Some("acknowledge-complainant".into()),
            reason: Some("no answer".into()),
            ..completed
        };
        let value = serde_json::to_value(&failed).unwrap();
        assert_eq!(value["step"], "acknowledge-complainant");
        assert_eq!(value["reason"], "no answer");
        assert_eq!(
            serde_json::from_value::<SagaChanged>(value).unwrap(),
            failed
        );
    }

    #[test]
    fn an_abandonment_without_its_reason_is_malformed() {
        let missing = json!({
            "sagaId": Uuid::nil(), "sagaType": "ASSIGNMENT", "complaintId": "c-1",
            "status": "ABANDONED", "attempt": 1
        });
        assert!(serde_json::from_value::<SagaAbandoned>(missing).is_err());
    }
}
