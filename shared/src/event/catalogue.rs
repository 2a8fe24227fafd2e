//! The event catalogue: every event type the suite publishes, and where each one goes.

use utoipa::ToSchema;

use super::{exchanges, streams};

crate::wire_enum!(
    /// One type of the catalogue, written on the wire in SCREAMING_SNAKE_CASE
    /// (`COMPLAINT_CREATED`). New types are additive: add a variant here and to its domain;
    /// the exhaustive matches below make the compiler list what else to do.
    #[derive(ToSchema)]
    EventType, "SCREAMING_SNAKE_CASE" {
        ComplaintCreated => "COMPLAINT_CREATED",
        ComplaintAssigned => "COMPLAINT_ASSIGNED",
        /// Work on the complaint has started.
        ComplaintProcessed => "COMPLAINT_PROCESSED",
        ComplaintResolved => "COMPLAINT_RESOLVED",
        ComplaintClosed => "COMPLAINT_CLOSED",
        ComplaintReopened => "COMPLAINT_REOPENED",
        ComplaintPriorityChanged => "COMPLAINT_PRIORITY_CHANGED",
        ComplaintEscalated => "COMPLAINT_ESCALATED",
        ComplaintCompensationRequired => "COMPLAINT_COMPENSATION_REQUIRED",
        ComplaintAssignmentReverted => "COMPLAINT_ASSIGNMENT_REVERTED",
        NotificationSent => "NOTIFICATION_SENT",
        NotificationFailed => "NOTIFICATION_FAILED",
        NotificationCompensation => "NOTIFICATION_COMPENSATION",
        AuditCompensation => "AUDIT_COMPENSATION",
        SagaStarted => "SAGA_STARTED",
        SagaStepCompleted => "SAGA_STEP_COMPLETED",
        SagaCompleted => "SAGA_COMPLETED",
        SagaFailed => "SAGA_FAILED",
        SagaCompensated => "SAGA_COMPENSATED",
        ErrorDeadLetterQueued => "ERROR_DEAD_LETTER_QUEUED",
        ErrorManualInterventionRequired => "ERROR_MANUAL_INTERVENTION_REQUIRED",
        /// A failed or stuck saga resumed at its failed step (payload: [`super::SagaRetried`]).
        SagaRetried => "SAGA_RETRIED",
        /// An operator closed a saga for good, with a reason (payload: [`super::SagaAbandoned`]).
        SagaAbandoned => "SAGA_ABANDONED",
        /// A command message the domain refused (a rule, a value, a stale `expectedVersion`):
        /// on `errors.events`, payload [`super::command::CommandRejected`].
        CommandRejected => "COMMAND_REJECTED",
        MonitoringConsumerLagHigh => "MONITORING_CONSUMER_LAG_HIGH",
        MonitoringDlqGrowing => "MONITORING_DLQ_GROWING",
        MonitoringCircuitOpened => "MONITORING_CIRCUIT_OPENED",
        MonitoringCircuitClosed => "MONITORING_CIRCUIT_CLOSED",
        MonitoringServiceDegraded => "MONITORING_SERVICE_DEGRADED",
    }
);

/// The domain an event type belongs to: it decides both its exchange and its stream.
#[derive(Clone, Copy)]
enum Domain {
    Complaints,
    Notifications,
    Audit,
    Saga,
    Errors,
    Monitoring,
}

impl EventType {
    /// The topic exchange this type is published to.
    pub const fn exchange(self) -> &'static str {
        match self.domain() {
            Domain::Complaints => exchanges::COMPLAINTS,
            Domain::Notifications => exchanges::NOTIFICATIONS,
            Domain::Audit => exchanges::AUDIT,
            Domain::Saga => exchanges::SAGA,
            Domain::Errors => exchanges::ERRORS,
            Domain::Monitoring => exchanges::MONITORING,
        }
    }

    /// The Redis stream of this type's domain.
    pub const fn stream(self) -> &'static str {
        match self.domain() {
            Domain::Complaints => streams::COMPLAINTS,
            Domain::Notifications => streams::NOTIFICATIONS,
            Domain::Audit => streams::AUDIT,
            Domain::Saga => streams::SAGA,
            Domain::Errors => streams::ERRORS,
            Domain::Monitoring => streams::MONITORING,
        }
    }

    /// The AMQP routing key: `COMPLAINT_CREATED` is published as `complaint.created`.
    pub fn routing_key(self) -> String {
        routing_key(self.as_str())
    }

    /// Whether this is an event of the complaint aggregate.
    pub const fn is_complaint_event(self) -> bool {
        matches!(self.domain(), Domain::Complaints)
    }

    const fn domain(self) -> Domain {
        match self {
            Self::ComplaintCreated
            | Self::ComplaintAssigned
            | Self::ComplaintProcessed
            | Self::ComplaintResolved
            | Self::ComplaintClosed
            | Self::ComplaintReopened
            | Self::ComplaintPriorityChanged
            | Self::ComplaintEscalated
            | Self::ComplaintCompensationRequired
            | Self::ComplaintAssignmentReverted => Domain::Complaints,
            Self::NotificationSent | Self::NotificationFailed | Self::NotificationCompensation => {
                Domain::Notifications
            }
            Self::AuditCompensation => Domain::Audit,
            Self::SagaStarted
            | Self::SagaStepCompleted
            | Self::SagaCompleted
            | Self::SagaFailed
            | Self::SagaCompensated
            | Self::SagaRetried
            | Self::SagaAbandoned => Domain::Saga,
            Self::ErrorDeadLetterQueued
            | Self::ErrorManualInterventionRequired
            | Self::CommandRejected => Domain::Errors,
            Self::MonitoringConsumerLagHigh
            | Self::MonitoringDlqGrowing
            | Self::MonitoringCircuitOpened
            | Self::MonitoringCircuitClosed
            | Self::MonitoringServiceDegraded => Domain::Monitoring,
        }
    }
}

/// The routing key of any event type name, known or not: lower case, `_` becomes `.`.
pub(super) fn routing_key(event_type: &str) -> String {
    event_type.to_ascii_lowercase().replace('_', ".")
}

/// A string that names no type of the catalogue (perhaps one added after this build).
pub use crate::wire::UnknownName as UnknownEventType;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_parses_back_from_its_wire_name() {
        for &t in EventType::ALL {
            assert_eq!(t.as_str().parse::<EventType>(), Ok(t));
            assert_eq!(t.to_string(), t.as_str());
        }
    }

    #[test]
    fn serde_uses_the_wire_name() {
        for &t in EventType::ALL {
            let json = serde_json::to_value(t).unwrap();
            assert_eq!(json, serde_json::Value::from(t.as_str()));
            assert_eq!(serde_json::from_value::<EventType>(json).unwrap(), t);
        }
    }

    #[test]
    fn all_lists_each_type_once() {
        let mut sorted = EventType::ALL.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), EventType::ALL.len());
        assert_eq!(EventType::ALL.len(), 29);
    }

    #[test]
    fn unknown_names_are_refused() {
        let unknown: UnknownEventType = "COMPLAINT_ARCHIVED".parse::<EventType>().unwrap_err();
        assert!(
            unknown.to_string().contains("`COMPLAINT_ARCHIVED`"),
            "{unknown}"
        );
        assert!("complaint_created".parse::<EventType>().is_err());
    }

    #[test]
    fn routing_keys_are_lower_case_with_dots() {
        assert_eq!(
            EventType::ComplaintCreated.routing_key(),
            "complaint.created"
        );
        assert_eq!(
            EventType::ComplaintPriorityChanged.routing_key(),
            "complaint.priority.changed"
        );
        assert_eq!(
            EventType::ErrorDeadLetterQueued.routing_key(),
            "error.dead.letter.queued"
        );
        for &t in EventType::ALL {
            let key = t.routing_key();
            assert!(!key.contains('_') && key == key.to_lowercase(), "{key}");
        }
    }

    #[test]
    fn each_type_goes_to_the_exchange_and_stream_of_its_domain() {
        let expected = [
            ("COMPLAINT_", exchanges::COMPLAINTS, streams::COMPLAINTS),
            (
                "NOTIFICATION_",
                exchanges::NOTIFICATIONS,
                streams::NOTIFICATIONS,
            ),
            ("AUDIT_", exchanges::AUDIT, streams::AUDIT),
            ("SAGA_", exchanges::SAGA, streams::SAGA),
            ("ERROR_", exchanges::ERRORS, streams::ERRORS),
            ("COMMAND_", exchanges::ERRORS, streams::ERRORS),
            ("MONITORING_", exchanges::MONITORING, streams::MONITORING),
        ];
        for &t in EventType::ALL {
            let (_, exchange, stream) = expected
                .iter()
                .find(|(prefix, _, _)| t.as_str().starts_with(prefix))
                .unwrap();
            assert_eq!(t.exchange(), *exchange, "{t}");
            assert_eq!(t.stream(), *stream, "{t}");
            assert_eq!(t.is_complaint_event(), *exchange == exchanges::COMPLAINTS);
        }
        assert_eq!(
            EventType::ComplaintEscalated.exchange(),
            "complaints.events"
        );
        assert_eq!(EventType::SagaCompensated.exchange(), "saga.events");
    }

    #[test]
    fn every_domain_exchange_carries_some_type_and_replay_none() {
        for exchange in exchanges::DOMAIN_EXCHANGES {
            assert!(EventType::ALL.iter().any(|t| t.exchange() == exchange));
        }
        assert!(!EventType::ALL
            .iter()
            .any(|t| t.exchange() == exchanges::REPLAY));
        assert!(!exchanges::DOMAIN_EXCHANGES.contains(&exchanges::REPLAY));
    }
}
