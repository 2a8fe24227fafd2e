//! Complaint events in and out of the [`Envelope`]: the catalogue's type name plus the data
//! struct as JSON.

use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

use super::event::ComplaintEvent;
use crate::event::{Envelope, EventType, Metadata};

/// The envelope's `aggregateType` for complaint events.
pub const AGGREGATE_TYPE: &str = "Complaint";

/// A complaint event whose data does not have the shape of its type: the message is poison
/// (dead-letter it), not a transient failure.
#[derive(Debug, thiserror::Error)]
#[error("invalid {event_type} data: {source}")]
pub struct DecodeError {
    pub event_type: EventType,
    pub source: serde_json::Error,
}

impl ComplaintEvent {
    pub const fn event_type(&self) -> EventType {
        match self {
            Self::Created(_) => EventType::ComplaintCreated,
            Self::Assigned(_) => EventType::ComplaintAssigned,
            Self::Processed(_) => EventType::ComplaintProcessed,
            Self::Resolved(_) => EventType::ComplaintResolved,
            Self::Closed(_) => EventType::ComplaintClosed,
            Self::Reopened(_) => EventType::ComplaintReopened,
            Self::PriorityChanged(_) => EventType::ComplaintPriorityChanged,
            Self::Escalated(_) => EventType::ComplaintEscalated,
            Self::CompensationRequired(_) => EventType::ComplaintCompensationRequired,
            Self::AssignmentReverted(_) => EventType::ComplaintAssignmentReverted,
        }
    }

    /// The envelope's `eventData`.
    pub fn to_data(&self) -> Value {
        match self {
            Self::Created(data) => json(data),
            Self::Assigned(data) => json(data),
            Self::Processed(data) => json(data),
            Self::Resolved(data) => json(data),
            Self::Closed(data) => json(data),
            Self::Reopened(data) => json(data),
            Self::PriorityChanged(data) => json(data),
            Self::Escalated(data) => json(data),
            Self::CompensationRequired(data) => json(data),
            Self::AssignmentReverted(data) => json(data),
        }
    }

    /// This event of complaint `complaint_id` in a new envelope.
    pub fn to_envelope(&self, complaint_id: &str, metadata: Metadata) -> Envelope {
        Envelope::new(
            self.event_type(),
            complaint_id,
            AGGREGATE_TYPE,
            self.to_data(),
            metadata,
        )
    }

    /// The complaint event of type `event_type` with data `data`. `Ok(None)` for any other
    /// type, known or not: consumers ignore events they have no use for.
    pub fn from_parts(event_type: &str, data: &Value) -> Result<Option<Self>, DecodeError> {
        let Ok(known) = event_type.parse::<EventType>() else {
            return Ok(None);
        };
        let event = match known {
            EventType::ComplaintCreated => Self::Created(decode(known, data)?),
            EventType::ComplaintAssigned => Self::Assigned(decode(known, data)?),
            EventType::ComplaintProcessed => Self::Processed(decode(known, data)?),
            EventType::ComplaintResolved => Self::Resolved(decode(known, data)?),
            EventType::ComplaintClosed => Self::Closed(decode(known, data)?),
            EventType::ComplaintReopened => Self::Reopened(decode(known, data)?),
            EventType::ComplaintPriorityChanged => Self::PriorityChanged(decode(known, data)?),
            EventType::ComplaintEscalated => Self::Escalated(decode(known, data)?),
            EventType::ComplaintCompensationRequired => {
                Self::CompensationRequired(decode(known, data)?)
            }
            EventType::ComplaintAssignmentReverted => {
                Self::AssignmentReverted(decode(known, data)?)
            }
            EventType::NotificationSent
            | EventType::NotificationFailed
            | EventType::NotificationCompensation
            | EventType::AuditCompensation
            | EventType::SagaStarted
            | EventType::SagaStepCompleted
            | EventType::SagaCompleted
            | EventType::SagaFailed
            | EventType::SagaCompensated
            | EventType::ErrorDeadLetterQueued
            | EventType::ErrorManualInterventionRequired
            | EventType::SagaRetried
            | EventType::SagaAbandoned
            | EventType::CommandRejected
            | EventType::MonitoringConsumerLagHigh
            | EventType::MonitoringDlqGrowing
            | EventType::MonitoringCircuitOpened
            | EventType::MonitoringCircuitClosed
            | EventType::MonitoringServiceDegraded => return Ok(None),
        };
        Ok(Some(event))
    }

    /// The complaint event an envelope carries, if it carries one.
    pub fn from_envelope(envelope: &Envelope) -> Result<Option<Self>, DecodeError> {
        Self::from_parts(&envelope.event_type, &envelope.event_data)
    }
}

fn json(data: &impl Serialize) -> Value {
    // Cannot fail: the data structs are plain structs with string keys, strings, numbers and
    // timestamps, the same reason `serde_json::json!` may unwrap.
    serde_json::to_value(data).expect("complaint event data is plain JSON")
}

fn decode<T: DeserializeOwned>(event_type: EventType, data: &Value) -> Result<T, DecodeError> {
    T::deserialize(data).map_err(|source| DecodeError { event_type, source })
}
