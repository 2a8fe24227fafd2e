//! The events this service publishes, on `notifications.events`:
//!
//! - NOTIFICATION_SENT / NOTIFICATION_FAILED, one per notification when it reaches its end
//!   (aggregateType `Notification`, aggregateId = the notification's id), with the data of
//!   [`NotificationOutcome`]. complaint-service's sagas read `step` and `audience` from them
//!   (and `reason` from a failure).
//! - NOTIFICATION_COMPENSATION, once per COMPLAINT_COMPENSATION_REQUIRED (aggregateId = that
//!   event's id), with the data of [`NotificationCompensation`].
//!
//! Each is caused by a complaint event: same correlation id and user, causation id = the
//! complaint event's id. Pure.

use crate::config::SERVICE;
use chrono::{DateTime, Utc};
use shared::event::{to_data, Envelope, EventType, Metadata};
use uuid::Uuid;

/// The payloads are the event contract's (`shared::event::notification`), which
/// complaint-service's sagas read.
pub use shared::event::notification::{NotificationCompensation, NotificationOutcome};

pub const AGGREGATE_TYPE: &str = "Notification";

/// The complaint event a notification answers: what its follow-up events need of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    pub event_id: Uuid,
    pub event_type: String,
    pub correlation_id: String,
    pub user_id: Option<String>,
}

impl Cause {
    pub fn of(envelope: &Envelope) -> Self {
        Self {
            event_id: envelope.event_id,
            event_type: envelope.event_type.clone(),
            correlation_id: envelope.metadata.correlation_id.clone(),
            user_id: envelope.metadata.user_id.clone(),
        }
    }

    /// The metadata of a follow-up: what `Metadata::caused_by` gives for the triggering
    /// envelope, which is no longer at hand when a delivery ends (the cause is kept in the row).
    pub fn metadata(&self, now: DateTime<Utc>) -> Metadata {
        let metadata = Metadata::new(SERVICE, self.correlation_id.clone(), now)
            .with_causation(self.event_id.to_string());
        match &self.user_id {
            Some(user) => metadata.with_user(user.clone()),
            None => metadata,
        }
    }
}

pub fn sent(outcome: &NotificationOutcome, cause: &Cause, now: DateTime<Utc>) -> Envelope {
    outcome_event(EventType::NotificationSent, outcome, cause, now)
}

pub fn failed(outcome: &NotificationOutcome, cause: &Cause, now: DateTime<Utc>) -> Envelope {
    outcome_event(EventType::NotificationFailed, outcome, cause, now)
}

fn outcome_event(
    event_type: EventType,
    outcome: &NotificationOutcome,
    cause: &Cause,
    now: DateTime<Utc>,
) -> Envelope {
    Envelope::new(
        event_type,
        outcome.notification_id.to_string(),
        AGGREGATE_TYPE,
        to_data(outcome),
        cause.metadata(now),
    )
}

pub fn compensation(
    data: &NotificationCompensation,
    cause: &Cause,
    now: DateTime<Utc>,
) -> Envelope {
    Envelope::new(
        EventType::NotificationCompensation,
        data.triggering_event_id.to_string(),
        AGGREGATE_TYPE,
        to_data(data),
        cause.metadata(now),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Audience, Channel, Step};
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        "2024-05-01T10:00:00Z".parse().unwrap()
    }

    fn trigger() -> Envelope {
        Envelope::new(
            EventType::ComplaintAssigned,
            "c-1",
            "Complaint",
            json!({"agentId": "ghost"}),
            Metadata::new("complaint-service", "req-7".into(), now())
                .with_version(2)
                .with_user("user-1"),
        )
    }

    #[test]
    fn a_follow_up_has_the_metadata_caused_by_would_give() {
        let trigger = trigger();
        let later = now() + chrono::TimeDelta::seconds(3);
        assert_eq!(
            Cause::of(&trigger).metadata(later),
            Metadata::caused_by(&trigger, SERVICE, later)
        );
    }

    #[test]
    fn a_failed_notification_carries_the_contract_fields() {
        let trigger = trigger();
        let id = Uuid::from_u128(7);
        let outcome = NotificationOutcome {
            notification_id: id,
            complaint_id: "c-1".into(),
            step: Step::Assignment,
            audience: Audience::Assignee,
            recipient: "ghost".into(),
            channel: Channel::Email,
            triggering_event_id: trigger.event_id,
            triggering_event_type: "COMPLAINT_ASSIGNED".into(),
            reason: Some("unknown agent".into()),
            attempts: 0,
            agent_id: Some("ghost".into()),
        };
        let event = failed(&outcome, &Cause::of(&trigger), now());
        assert_eq!(event.event_type, "NOTIFICATION_FAILED");
        assert_eq!(event.aggregate_type, "Notification");
        assert_eq!(event.aggregate_id, id.to_string());
        assert_eq!(event.metadata.correlation_id, "req-7");
        assert_eq!(
            event.metadata.causation_id,
            Some(trigger.event_id.to_string())
        );
        assert_eq!(
            event.event_data,
            json!({
                "notificationId": id,
                "complaintId": "c-1",
                "step": "assignment",
                "audience": "assignee",
                "recipient": "ghost",
                "channel": "email",
                "triggeringEventId": trigger.event_id,
                "triggeringEventType": "COMPLAINT_ASSIGNED",
                "reason": "unknown agent",
                "attempts": 0,
                "agentId": "ghost",
            })
        );
    }

    #[test]
    fn a_sent_notification_has_no_reason() {
        let trigger = trigger();
        let outcome = NotificationOutcome {
            notification_id: Uuid::from_u128(8),
            complaint_id: "c-1".into(),
            step: Step::Acknowledgement,
            audience: Audience::Complainant,
            recipient: "ada@example.com".into(),
            channel: Channel::Email,
            triggering_event_id: trigger.event_id,
            triggering_event_type: "COMPLAINT_CREATED".into(),
            reason: None,
            attempts: 1,
            agent_id: None,
        };
        let event = sent(&outcome, &Cause::of(&trigger), now());
        assert_eq!(event.event_type, "NOTIFICATION_SENT");
        assert!(event.event_data.get("reason").is_none());
        assert!(event.event_data.get("agentId").is_none());
        assert_eq!(event.event_data["attempts"], 1);
    }
}
