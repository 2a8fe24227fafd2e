//! The event catalogue: every event type the suite publishes, and where each one goes.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{exchanges, streams};

/// One type of the catalogue, written on the wire in SCREAMING_SNAKE_CASE
/// (`COMPLAINT_CREATED`). New types are additive: add a variant here, to [`EventType::ALL`]
/// and to its domain; the exhaustive matches below make the compiler list what else to do.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventType {
    ComplaintCreated,
    ComplaintAssigned,
    /// Work on the complaint has started.
    ComplaintProcessed,
    ComplaintResolved,
    ComplaintClosed,
    ComplaintReopened,
    ComplaintPriorityChanged,
    ComplaintEscalated,
    ComplaintCompensationRequired,
    ComplaintAssignmentReverted,
    NotificationSent,
    NotificationFailed,
    NotificationCompensation,
    AuditCompensation,
    SagaStarted,
    SagaStepCompleted,
    SagaCompleted,
    SagaFailed,
    SagaCompensated,
    ErrorDeadLetterQueued,
    ErrorManualInterventionRequired,
    /// A failed or stuck saga resumed at its failed step (payload: [`super::SagaRetried`]).
    SagaRetried,
    /// An operator closed a saga for good, with a reason (payload: [`super::SagaAbandoned`]).
    SagaAbandoned,
    /// A command message the domain refused (a rule, a value, a stale `expectedVersion`):
    /// on `errors.events`, payload [`super::command::CommandRejected`].
    CommandRejected,
    MonitoringConsumerLagHigh,
    MonitoringDlqGrowing,
    MonitoringCircuitOpened,
    MonitoringCircuitClosed,
    MonitoringServiceDegraded,
}

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
    /// Every type of the catalogue, in catalogue order.
    pub const ALL: &'static [EventType] = &[
        Self::ComplaintCreated,
        Self::ComplaintAssigned,
        Self::ComplaintProcessed,
        Self::ComplaintResolved,
        Self::ComplaintClosed,
        Self::ComplaintReopened,
        Self::ComplaintPriorityChanged,
        Self::ComplaintEscalated,
        Self::ComplaintCompensationRequired,
        Self::ComplaintAssignmentReverted,
        Self::NotificationSent,
        Self::NotificationFailed,
        Self::NotificationCompensation,
        Self::AuditCompensation,
        Self::SagaStarted,
        Self::SagaStepCompleted,
        Self::SagaCompleted,
        Self::SagaFailed,
        Self::SagaCompensated,
        Self::ErrorDeadLetterQueued,
        Self::ErrorManualInterventionRequired,
        Self::SagaRetried,
        Self::SagaAbandoned,
        Self::CommandRejected,
        Self::MonitoringConsumerLagHigh,
        Self::MonitoringDlqGrowing,
        Self::MonitoringCircuitOpened,
        Self::MonitoringCircuitClosed,
        Self::MonitoringServiceDegraded,
    ];

    /// The wire name, as in `eventType` and the AMQP `type` property.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ComplaintCreated => "COMPLAINT_CREATED",
            Self::ComplaintAssigned => "COMPLAINT_ASSIGNED",
            Self::ComplaintProcessed => "COMPLAINT_PROCESSED",
            Self::ComplaintResolved => "COMPLAINT_RESOLVED",
            Self::ComplaintClosed => "COMPLAINT_CLOSED",
            Self::ComplaintReopened => "COMPLAINT_REOPENED",
            Self::ComplaintPriorityChanged => "COMPLAINT_PRIORITY_CHANGED",
            Self::ComplaintEscalated => "COMPLAINT_ESCALATED",
            Self::ComplaintCompensationRequired => "COMPLAINT_COMPENSATION_REQUIRED",
            Self::ComplaintAssignmentReverted => "COMPLAINT_ASSIGNMENT_REVERTED",
            Self::NotificationSent => "NOTIFICATION_SENT",
            Self::NotificationFailed => "NOTIFICATION_FAILED",
            Self::NotificationCompensation => "NOTIFICATION_COMPENSATION",
            Self::AuditCompensation => "AUDIT_COMPENSATION",
            Self::SagaStarted => "SAGA_STARTED",
            Self::SagaStepCompleted => "SAGA_STEP_COMPLETED",
            Self::SagaCompleted => "SAGA_COMPLETED",
            Self::SagaFailed => "SAGA_FAILED",
            Self::SagaCompensated => "SAGA_COMPENSATED",
            Self::ErrorDeadLetterQueued => "ERROR_DEAD_LETTER_QUEUED",
            Self::ErrorManualInterventionRequired => "ERROR_MANUAL_INTERVENTION_REQUIRED",
            Self::SagaRetried => "SAGA_RETRIED",
            Self::SagaAbandoned => "SAGA_ABANDONED",
            Self::CommandRejected => "COMMAND_REJECTED",
            Self::MonitoringConsumerLagHigh => "MONITORING_CONSUMER_LAG_HIGH",
            Self::MonitoringDlqGrowing => "MONITORING_DLQ_GROWING",
            Self::MonitoringCircuitOpened => "MONITORING_CIRCUIT_OPENED",
            Self::MonitoringCircuitClosed => "MONITORING_CIRCUIT_CLOSED",
            Self::MonitoringServiceDegraded => "MONITORING_SERVICE_DEGRADED",
        }
    }

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

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no type of the catalogue (perhaps one added after this build).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event type `{0}`")]
pub struct UnknownEventType(pub String);

impl FromStr for EventType {
    type Err = UnknownEventType;

    /// Parses the exact wire name; the catalogue is small, so a scan is fine.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownEventType(s.to_owned()))
    }
}

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
        assert_eq!(
            "COMPLAINT_ARCHIVED".parse::<EventType>(),
            Err(UnknownEventType("COMPLAINT_ARCHIVED".into()))
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
