//! The payloads notification-service publishes on `notifications.events`, and what
//! complaint-service's sagas read of them:
//!
//! - NOTIFICATION_SENT / NOTIFICATION_FAILED: [`NotificationOutcome`], one per notification
//!   when it reaches its end. A saga reads [`StepSent`] / [`StepFailed`] of it.
//! - NOTIFICATION_COMPENSATION: [`NotificationCompensation`], once per
//!   COMPLAINT_COMPENSATION_REQUIRED. A saga reads [`super::CompensationDone`] of it.
//!
//! The readers are tolerant: they take the fields they act on and ignore the rest, so the
//! writer may add fields; a field they need that is missing or not of its type is malformed.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

crate::wire_enum!(
    /// The saga step a notification serves.
    #[derive(ToSchema)]
    Step, "lowercase" {
        /// COMPLAINT_CREATED: receipt acknowledged to the complainant.
        Acknowledgement => "acknowledgement",
        /// COMPLAINT_ASSIGNED: the assignee and the complainant are told.
        Assignment => "assignment",
        /// COMPLAINT_ESCALATED: supervisors and the assignee are told.
        Escalation => "escalation",
        /// Any other change the complainant hears of (resolved, closed, reopened, reverted…).
        Status => "status",
        /// Retractions of what an undone step sent.
        Compensation => "compensation",
    }
);

crate::wire_enum!(
    /// Who a notification is for; it picks the template.
    #[derive(ToSchema)]
    Audience, "lowercase" {
        Complainant => "complainant",
        Assignee => "assignee",
        Supervisor => "supervisor",
    }
);

crate::wire_enum!(
    /// How a notification travels. Only e-mail today; the SMTP, file and log transports are
    /// three ways of delivering it.
    #[derive(ToSchema)]
    Channel, "lowercase" {
        Email => "email",
    }
);

impl Step {
    /// The step a compensation undoes, from the failed step COMPLAINT_COMPENSATION_REQUIRED
    /// names (complaint-service's saga step, `notify-assignee`, or the seed's
    /// `NOTIFY_ASSIGNEE`). A compensation is always about an assignment (it names the agent),
    /// so that is the default.
    pub fn undone_by(failed_step: &str) -> Step {
        let upper = failed_step.to_ascii_uppercase();
        if upper.contains("ACKNOWLEDG") {
            Step::Acknowledgement
        } else if upper.contains("ESCALAT") {
            Step::Escalation
        } else {
            Step::Assignment
        }
    }
}

/// The data of NOTIFICATION_SENT and NOTIFICATION_FAILED.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationOutcome {
    pub notification_id: Uuid,
    pub complaint_id: String,
    pub step: Step,
    pub audience: Audience,
    /// The e-mail address; for an agent the directory does not know, the agent's id.
    pub recipient: String,
    pub channel: Channel,
    pub triggering_event_id: Uuid,
    #[schema(example = "COMPLAINT_ASSIGNED")]
    pub triggering_event_type: String,
    /// Why it failed (NOTIFICATION_FAILED only), e.g. `unknown agent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Delivery attempts made (0 when it failed before any, as for an unknown agent).
    pub attempts: u32,
    /// The agent the notification is about (the assignee), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
}

/// The data of NOTIFICATION_COMPENSATION.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationCompensation {
    pub complaint_id: String,
    /// The step whose notifications were withdrawn.
    pub step: Step,
    /// As COMPLAINT_COMPENSATION_REQUIRED named it, e.g. `NOTIFY_ASSIGNEE`.
    pub failed_step: String,
    pub agent_id: String,
    pub reason: String,
    pub triggering_event_id: Uuid,
    pub triggering_event_type: String,
    /// Sent before the compensation: a retraction goes to their recipients.
    pub retracted_notification_ids: Vec<Uuid>,
    /// Still pending: cancelled, never sent.
    pub cancelled_notification_ids: Vec<Uuid>,
    /// The retraction messages (step `compensation`), each later SENT or FAILED.
    pub retraction_notification_ids: Vec<Uuid>,
}

/// What a saga reads of NOTIFICATION_SENT: which step, for whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct StepSent {
    pub step: Step,
    pub audience: Audience,
}

/// What a saga reads of NOTIFICATION_FAILED: which step, for whom, and why (required: a
/// failure without its reason is malformed).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StepFailed {
    pub step: Step,
    pub audience: Audience,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::CompensationDone;
    use serde_json::json;

    fn failed_outcome() -> NotificationOutcome {
        NotificationOutcome {
            notification_id: Uuid::from_u128(7),
            complaint_id: "c-1".into(),
            step: Step::Assignment,
            audience: Audience::Assignee,
            recipient: "ghost".into(),
            channel: Channel::Email,
            triggering_event_id: Uuid::from_u128(1),
            triggering_event_type: "COMPLAINT_ASSIGNED".into(),
            reason: Some("unknown agent".into()),
            attempts: 0,
            agent_id: Some("ghost".into()),
        }
    }

    #[test]
    fn an_outcome_is_written_in_camel_case_with_wire_names_and_read_back() {
        let outcome = failed_outcome();
        let value = serde_json::to_value(&outcome).unwrap();
        assert_eq!(
            value,
            json!({
                "notificationId": Uuid::from_u128(7), "complaintId": "c-1",
                "step": "assignment", "audience": "assignee", "recipient": "ghost",
                "channel": "email", "triggeringEventId": Uuid::from_u128(1),
                "triggeringEventType": "COMPLAINT_ASSIGNED", "reason": "unknown agent",
                "attempts": 0, "agentId": "ghost",
            })
        );
        assert_eq!(
            serde_json::from_value::<NotificationOutcome>(value).unwrap(),
            outcome
        );
    }

    #[test]
    fn a_saga_reads_the_step_and_audience_of_every_outcome_and_the_reason_of_a_failure() {
        let failed = serde_json::to_value(failed_outcome()).unwrap();
        assert_eq!(
            serde_json::from_value::<StepFailed>(failed.clone()).unwrap(),
            StepFailed {
                step: Step::Assignment,
                audience: Audience::Assignee,
                reason: "unknown agent".into()
            }
        );
        assert_eq!(
            serde_json::from_value::<StepSent>(failed).unwrap(),
            StepSent {
                step: Step::Assignment,
                audience: Audience::Assignee
            }
        );
        let sent = NotificationOutcome {
            reason: None,
            ..failed_outcome()
        };
        let sent = serde_json::to_value(sent).unwrap();
        assert!(serde_json::from_value::<StepFailed>(sent.clone()).is_err());
        assert!(serde_json::from_value::<StepSent>(sent).is_ok());
    }

    #[test]
    fn a_compensation_is_written_in_camel_case_and_read_by_the_saga() {
        let compensation = NotificationCompensation {
            complaint_id: "c-1".into(),
            step: Step::Assignment,
            failed_step: "notify-assignee".into(),
            agent_id: "ghost".into(),
            reason: "unknown agent".into(),
            triggering_event_id: Uuid::from_u128(2),
            triggering_event_type: "COMPLAINT_COMPENSATION_REQUIRED".into(),
            retracted_notification_ids: vec![Uuid::from_u128(3)],
            cancelled_notification_ids: vec![],
            retraction_notification_ids: vec![Uuid::from_u128(4)],
        };
        let value = serde_json::to_value(&compensation).unwrap();
        assert_eq!(value["failedStep"], "notify-assignee");
        assert_eq!(
            value["retractedNotificationIds"],
            json!([Uuid::from_u128(3)])
        );
        assert_eq!(value["cancelledNotificationIds"], json!([]));
        assert_eq!(
            serde_json::from_value::<CompensationDone>(value.clone()).unwrap(),
            CompensationDone {
                complaint_id: "c-1".into()
            }
        );
        assert_eq!(
            serde_json::from_value::<NotificationCompensation>(value).unwrap(),
            compensation
        );
    }

    #[test]
    fn wire_names_round_trip_and_schemas_list_them() {
        fn values<T: utoipa::PartialSchema>() -> serde_json::Value {
            serde_json::to_value(T::schema()).unwrap()["enum"].clone()
        }
        for step in Step::ALL {
            assert_eq!(step.as_str().parse::<Step>(), Ok(*step));
            assert_eq!(serde_json::to_value(step).unwrap(), json!(step.as_str()));
        }
        let steps: Vec<&str> = Step::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(values::<Step>(), json!(steps));
        assert_eq!(
            values::<Audience>(),
            json!(["complainant", "assignee", "supervisor"])
        );
        assert_eq!(values::<Channel>(), json!(["email"]));
        assert!("sideways".parse::<Step>().is_err());
    }

    #[test]
    fn failed_steps_map_to_the_steps_they_undo() {
        assert_eq!(Step::undone_by("NOTIFY_ASSIGNEE"), Step::Assignment);
        assert_eq!(Step::undone_by("notify-assignee"), Step::Assignment);
        assert_eq!(Step::undone_by("assignment"), Step::Assignment);
        assert_eq!(Step::undone_by("ACKNOWLEDGE"), Step::Acknowledgement);
        assert_eq!(Step::undone_by("NOTIFY_ESCALATION"), Step::Escalation);
    }
}
