//! What a saga reads of the answers to a COMPLAINT_COMPENSATION_REQUIRED
//! (NOTIFICATION_COMPENSATION, AUDIT_COMPENSATION): the event names the request as its cause,
//! and its data names the complaint. Tolerant: the other fields are the writer's business.

use serde::Deserialize;

/// A service has compensated its side of a complaint's failed step.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompensationDone {
    pub complaint_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_answer_without_its_complaint_is_malformed() {
        assert!(serde_json::from_value::<CompensationDone>(json!({})).is_err());
        assert!(serde_json::from_value::<CompensationDone>(json!({ "complaintId": 7 })).is_err());
    }
}
