//! Complaint events in and out of the [`Envelope`]: the catalogue's type name plus the data
//! struct as JSON. Written at each type's latest schema version; read through the upcasters
//! ([`crate::event::upcast`]) first, so data of any earlier version decodes the same.

use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

use super::{Complaint, ComplaintEvent, Recorded};
use crate::event::{
    upcast::{self, UpcastError},
    Envelope, EventType, Metadata,
};

/// The envelope's `aggregateType` for complaint events.
pub const AGGREGATE_TYPE: &str = "Complaint";

/// A complaint event whose data does not have the shape of its type, or whose schema version
/// this build does not know: the message is poison (dead-letter it), not a transient failure.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("invalid {event_type} data: {source}")]
    Invalid {
        event_type: EventType,
        source: serde_json::Error,
    },
    #[error(transparent)]
    Version(#[from] UpcastError),
}

/// Complaint events in and out of the envelope. A trait because the events are the domain's
/// and the envelope is this crate's: bring it into scope (`use shared::complaint::EventCodec`)
/// to call `event.to_envelope(..)` or `ComplaintEvent::from_envelope(..)`.
pub trait EventCodec: Sized {
    /// The catalogue's type of this event.
    fn event_type(&self) -> EventType;

    /// The envelope's `eventData`.
    fn to_data(&self) -> Value;

    /// This event of complaint `complaint_id` in a new envelope, at its type's latest schema
    /// version (whatever `metadata` said).
    fn to_envelope(&self, complaint_id: &str, metadata: Metadata) -> Envelope;

    /// The complaint event of type `event_type` with data `data` written at schema version
    /// `schema_version`, upcast to the latest version first. `Ok(None)` for any other type,
    /// known or not: consumers ignore events they have no use for.
    fn from_parts(
        event_type: &str,
        schema_version: u32,
        data: &Value,
    ) -> Result<Option<Self>, DecodeError>;

    /// The complaint event an envelope carries, if it carries one.
    fn from_envelope(envelope: &Envelope) -> Result<Option<Self>, DecodeError> {
        Self::from_parts(
            &envelope.event_type,
            envelope.metadata.schema_version,
            &envelope.event_data,
        )
    }
}

impl EventCodec for ComplaintEvent {
    fn event_type(&self) -> EventType {
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

    fn to_data(&self) -> Value {
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

    fn to_envelope(&self, complaint_id: &str, metadata: Metadata) -> Envelope {
        let event_type = self.event_type();
        let metadata = Metadata {
            schema_version: upcast::latest_version(event_type),
            ..metadata
        };
        Envelope::new(
            event_type,
            complaint_id,
            AGGREGATE_TYPE,
            self.to_data(),
            metadata,
        )
    }

    fn from_parts(
        event_type: &str,
        schema_version: u32,
        data: &Value,
    ) -> Result<Option<Self>, DecodeError> {
        let Ok(known) = event_type.parse::<EventType>() else {
            return Ok(None);
        };
        let event = match known {
            EventType::ComplaintCreated => Self::Created(decode(known, schema_version, data)?),
            EventType::ComplaintAssigned => Self::Assigned(decode(known, schema_version, data)?),
            EventType::ComplaintProcessed => Self::Processed(decode(known, schema_version, data)?),
            EventType::ComplaintResolved => Self::Resolved(decode(known, schema_version, data)?),
            EventType::ComplaintClosed => Self::Closed(decode(known, schema_version, data)?),
            EventType::ComplaintReopened => Self::Reopened(decode(known, schema_version, data)?),
            EventType::ComplaintPriorityChanged => {
                Self::PriorityChanged(decode(known, schema_version, data)?)
            }
            EventType::ComplaintEscalated => Self::Escalated(decode(known, schema_version, data)?),
            EventType::ComplaintCompensationRequired => {
                Self::CompensationRequired(decode(known, schema_version, data)?)
            }
            EventType::ComplaintAssignmentReverted => {
                Self::AssignmentReverted(decode(known, schema_version, data)?)
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
}

/// Folds the envelopes of one complaint's stream, in version order, with the domain's one
/// fold ([`Complaint::fold`]): each at its `metadata.version` and `metadata.timestamp`; one
/// of a type that is not a complaint event this build knows counts for the version and
/// changes nothing else; one whose data does not decode stops the fold.
pub fn fold_envelopes<'a>(
    id: impl Into<String>,
    envelopes: impl IntoIterator<Item = &'a Envelope>,
) -> Result<Complaint, DecodeError> {
    Complaint::empty(id).fold(envelopes.into_iter().map(|envelope| {
        Ok(Recorded {
            version: envelope.metadata.version,
            at: envelope.metadata.timestamp,
            event: ComplaintEvent::from_envelope(envelope)?,
        })
    }))
}

fn json(data: &impl Serialize) -> Value {
    // Cannot fail: the data structs are plain structs with string keys, strings, numbers and
    // timestamps, the same reason `serde_json::json!` may unwrap.
    serde_json::to_value(data).expect("complaint event data is plain JSON")
}

/// `data` of `event_type` at `schema_version`, upcast to the latest version, as `T`.
fn decode<T: DeserializeOwned>(
    event_type: EventType,
    schema_version: u32,
    data: &Value,
) -> Result<T, DecodeError> {
    let data = upcast::upcast(event_type, schema_version, data)?;
    T::deserialize(data.as_ref()).map_err(|source| DecodeError::Invalid { event_type, source })
}
