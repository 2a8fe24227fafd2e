//! Where an event goes in the log: its aggregate stream, whether versions are unique in that
//! stream, and which Redis domain stream mirrors it. Pure rules, no IO.

use shared::{
    complaint,
    event::{streams, EventType},
};

/// The aggregate stream of an event: `<aggregateType>-<aggregateId>`, e.g.
/// `Complaint-0190a6f2-…`. The type is part of the id because different aggregates may share
/// an id (a complaint's saga uses the complaint's id), and their versions must not collide.
pub fn stream_id(aggregate_type: &str, aggregate_id: &str) -> String {
    format!("{aggregate_type}-{aggregate_id}")
}

/// Whether the producer of `aggregate_type` guarantees one event per version in a stream.
///
/// Only event-sourced aggregates do: the complaint (complaint-service appends with optimistic
/// concurrency). Other producers stamp whatever version they like — every dead-letter alarm
/// carries version 1 for the same queue — so for them `(streamId, version)` is not unique and
/// the log keeps every event. A second, different event claiming a version of a complaint
/// stream is a fork, which the log refuses.
pub fn has_unique_versions(aggregate_type: &str) -> bool {
    aggregate_type == complaint::AGGREGATE_TYPE
}

/// The Redis domain stream an event is mirrored to (without the configured prefix).
///
/// Catalogue types go to their domain's stream. A type this build does not know goes to the
/// stream of the known types that share its first word (`COMPLAINT_ARCHIVED` joins
/// `complaints-stream`), since new types are added to an existing domain; a type with no
/// known relative goes to `errors-stream`, where operators look for the unexpected. The
/// exchange it came from is not used: the consumer receives envelopes, not deliveries.
pub fn domain_stream(event_type: &str) -> &'static str {
    if let Ok(known) = event_type.parse::<EventType>() {
        return known.stream();
    }
    let family = first_word(event_type);
    EventType::ALL
        .iter()
        .find(|known| first_word(known.as_str()) == family)
        .map_or(streams::ERRORS, |known| known.stream())
}

fn first_word(event_type: &str) -> &str {
    event_type.split('_').next().unwrap_or(event_type)
}

/// Why an event cannot enter the log (it would be refused on every redelivery).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("the event has an empty {0}")]
    Empty(&'static str),
    #[error("version {0} is not a version of an event-sourced stream (they start at 1)")]
    Version(i64),
}

/// Checks what the log relies on: ids to file it under and, for streams with unique
/// versions, a version that can be one.
pub fn validate(
    event_type: &str,
    aggregate_type: &str,
    aggregate_id: &str,
    version: i64,
) -> Result<(), Invalid> {
    if event_type.trim().is_empty() {
        return Err(Invalid::Empty("eventType"));
    }
    if aggregate_type.trim().is_empty() {
        return Err(Invalid::Empty("aggregateType"));
    }
    if aggregate_id.trim().is_empty() {
        return Err(Invalid::Empty("aggregateId"));
    }
    if has_unique_versions(aggregate_type) && version < 1 {
        return Err(Invalid::Version(version));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_is_named_by_aggregate_type_and_id() {
        assert_eq!(stream_id("Complaint", "c-1"), "Complaint-c-1");
        assert_ne!(stream_id("Saga", "c-1"), stream_id("Complaint", "c-1"));
    }

    #[test]
    fn only_complaint_streams_have_unique_versions() {
        assert!(has_unique_versions("Complaint"));
        assert!(!has_unique_versions("Saga"));
        assert!(!has_unique_versions("DeadLetterQueue"));
    }

    #[test]
    fn catalogue_types_go_to_their_domain_stream() {
        for &known in EventType::ALL {
            assert_eq!(domain_stream(known.as_str()), known.stream());
        }
    }

    #[test]
    fn an_unknown_type_joins_the_stream_of_its_family_or_errors() {
        assert_eq!(domain_stream("COMPLAINT_ARCHIVED"), streams::COMPLAINTS);
        assert_eq!(domain_stream("SAGA_PAUSED"), streams::SAGA);
        assert_eq!(domain_stream("NOTIFICATION_READ"), streams::NOTIFICATIONS);
        assert_eq!(domain_stream("INVOICE_PAID"), streams::ERRORS);
        assert_eq!(domain_stream(""), streams::ERRORS);
    }

    #[test]
    fn events_without_ids_or_with_impossible_versions_are_invalid() {
        assert_eq!(validate("X", "Complaint", "c", 1), Ok(()));
        assert_eq!(validate("X", "Saga", "s", 0), Ok(()));
        assert_eq!(validate("X", "Complaint", "c", 0), Err(Invalid::Version(0)));
        assert_eq!(
            validate("X", "Complaint", " ", 1),
            Err(Invalid::Empty("aggregateId"))
        );
        assert_eq!(
            validate("X", "", "c", 1),
            Err(Invalid::Empty("aggregateType"))
        );
        assert_eq!(
            validate("", "Saga", "c", 1),
            Err(Invalid::Empty("eventType"))
        );
    }
}
