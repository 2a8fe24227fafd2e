//! The read model: each complaint's view is the aggregate's own state, folded from its events
//! by the domain's one fold (`Complaint::apply`, at the times the events were recorded), and
//! every event of a known type adds an entry to the complaint's timeline. [`apply`] is pure;
//! the IO is the projector's ([`projector`]): it loads the views a batch touches, applies the
//! batch, and saves the result.
//!
//! Applying is idempotent: an event at or below a view's version has been applied already and
//! is skipped, so replaying (a rebuild, a retried batch) never counts anything twice. An event
//! of a type this build does not know counts for the view's version (the domain's rule, so the
//! view says the version commands are decided at) and shows nothing.

pub mod projector;
pub mod rebuild;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared::{
    complaint::{Complaint, ComplaintEvent, EventCodec, Recorded},
    event::Metadata,
};
use std::collections::{BTreeSet, HashMap};
use utoipa::ToSchema;
use uuid::Uuid;

/// An event as the event store recorded it, in the order the projector reads them.
#[derive(Debug, Clone)]
pub struct RecordedEvent {
    pub position: i64,
    pub transaction_id: i64,
    pub complaint_id: Uuid,
    pub version: i64,
    pub event_id: Uuid,
    pub event_type: String,
    pub data: Value,
    pub metadata: Metadata,
    pub recorded_at: DateTime<Utc>,
}

/// One line of a complaint's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEntry {
    pub event_id: Uuid,
    /// The complaint's version after this event.
    pub version: i64,
    #[schema(example = "COMPLAINT_ASSIGNED")]
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    /// Who asked for it (the `sub` of the caller's token), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub correlation_id: String,
    /// The event's data, as published.
    #[schema(value_type = Object)]
    pub data: Value,
}

/// A timeline entry with where it belongs.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectedEntry {
    pub complaint_id: Uuid,
    pub position: i64,
    pub entry: TimelineEntry,
}

/// What applying a batch did.
#[derive(Debug, Default)]
pub struct Applied {
    /// The complaints whose views changed (to be saved).
    pub changed: BTreeSet<Uuid>,
    pub timeline: Vec<ProjectedEntry>,
    /// Events applied before (replays), or of types the read model does not show (these still
    /// count for the version of a view there is).
    pub skipped: usize,
    /// Events whose data cannot be decoded, with why: a bug to shout about, not to stop on.
    pub undecodable: Vec<(Uuid, String)>,
}

/// Applies `events` (in store order) to `views`, which holds the current view of every
/// complaint the events concern that has one.
pub fn apply(views: &mut HashMap<Uuid, Complaint>, events: &[RecordedEvent]) -> Applied {
    let mut applied = Applied::default();
    for recorded in events {
        let event = match ComplaintEvent::from_parts(
            &recorded.event_type,
            recorded.metadata.schema_version,
            &recorded.data,
        ) {
            Ok(event) => event,
            Err(error) => {
                applied
                    .undecodable
                    .push((recorded.event_id, error.to_string()));
                continue;
            }
        };
        if event.is_none() && !views.contains_key(&recorded.complaint_id) {
            // Nothing to count it in: a view starts with an event this build knows.
            applied.skipped += 1;
            continue;
        }
        let view = views
            .entry(recorded.complaint_id)
            .or_insert_with(|| Complaint::empty(recorded.complaint_id.to_string()));
        if view.has_applied(recorded.version) {
            applied.skipped += 1;
            continue;
        }
        let shown = event.is_some();
        *view = std::mem::take(view).apply(&Recorded {
            version: recorded.version,
            at: recorded.recorded_at,
            event,
        });
        applied.changed.insert(recorded.complaint_id);
        if !shown {
            applied.skipped += 1;
            continue;
        }
        applied.timeline.push(ProjectedEntry {
            complaint_id: recorded.complaint_id,
            position: recorded.position,
            entry: TimelineEntry {
                event_id: recorded.event_id,
                version: recorded.version,
                event_type: recorded.event_type.clone(),
                occurred_at: recorded.recorded_at,
                user_id: recorded.metadata.user_id.clone(),
                correlation_id: recorded.metadata.correlation_id.clone(),
                data: recorded.data.clone(),
            },
        });
    }
    applied
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use shared::complaint::{Priority, Status};

    const ID: Uuid = Uuid::from_u128(7);

    fn at(minute: u32) -> DateTime<Utc> {
        format!("2024-05-01T10:{minute:02}:00Z").parse().unwrap()
    }

    fn recorded(version: i64, event_type: &str, data: Value) -> RecordedEvent {
        RecordedEvent {
            position: version * 10,
            transaction_id: version,
            complaint_id: ID,
            version,
            event_id: Uuid::from_u128(version as u128),
            event_type: event_type.to_owned(),
            data,
            metadata: Metadata::new("complaint-service", "corr-1".into(), at(version as u32))
                .with_version(version)
                .with_user("agent-9"),
            recorded_at: at(version as u32),
        }
    }

    fn created() -> RecordedEvent {
        recorded(
            1,
            "COMPLAINT_CREATED",
            json!({
                "title": "Charged twice", "description": "Two debits", "category": "billing",
                "priority": "HIGH", "slaDeadline": "2024-05-02T10:01:00Z",
                "customer": { "id": "c-1", "name": "Ada", "email": "ada@example.com" }
            }),
        )
    }

    fn assigned(version: i64, agent: &str) -> RecordedEvent {
        recorded(version, "COMPLAINT_ASSIGNED", json!({ "agentId": agent }))
    }

    #[test]
    fn events_build_the_view_and_the_timeline() {
        let mut views = HashMap::new();
        let applied = apply(&mut views, &[created(), assigned(2, "agent-1")]);
        let view = &views[&ID];
        assert_eq!(view.version, 2);
        assert_eq!(view.status, Status::Assigned);
        assert_eq!(view.priority, Priority::High);
        assert_eq!(view.title, "Charged twice");
        assert_eq!(view.created_at, Some(at(1)));
        assert_eq!(view.updated_at, Some(at(2)));
        assert_eq!(applied.changed.into_iter().collect::<Vec<_>>(), [ID]);
        let types: Vec<&str> = applied
            .timeline
            .iter()
            .map(|e| e.entry.event_type.as_str())
            .collect();
        assert_eq!(types, ["COMPLAINT_CREATED", "COMPLAINT_ASSIGNED"]);
        assert_eq!(
            applied.timeline[1].entry.user_id.as_deref(),
            Some("agent-9")
        );
        assert_eq!(applied.timeline[1].position, 20);
    }

    #[test]
    fn a_complaint_created_at_schema_version_1_or_2_gives_the_same_view() {
        let v1 = created();
        let mut v2 = created();
        let email = v2.data["customer"].as_object_mut().unwrap().remove("email");
        v2.data["customer"]["contact"] = json!({ "email": email });
        v2.metadata.schema_version = 2;
        let (mut from_v1, mut from_v2) = (HashMap::new(), HashMap::new());
        apply(&mut from_v1, std::slice::from_ref(&v1));
        apply(&mut from_v2, &[v2]);
        assert_eq!(from_v1, from_v2);
        assert_eq!(from_v1[&ID].customer_email, "ada@example.com");
        // As schema version 2 the old shape is not half-read.
        let mut mislabelled = v1;
        mislabelled.metadata.schema_version = 2;
        assert_eq!(
            apply(&mut HashMap::new(), &[mislabelled]).undecodable.len(),
            1
        );
    }

    #[test]
    fn replaying_events_already_applied_changes_nothing() {
        let mut views = HashMap::new();
        apply(&mut views, &[created(), assigned(2, "agent-1")]);
        let before = views.clone();
        let again = apply(&mut views, &[created(), assigned(2, "agent-1")]);
        assert_eq!(views, before);
        assert_eq!(again.skipped, 2);
        assert!(again.timeline.is_empty() && again.changed.is_empty());
    }

    #[test]
    fn a_batch_continues_from_the_stored_view() {
        let mut views = HashMap::new();
        apply(&mut views, &[created()]);
        let applied = apply(
            &mut views,
            &[assigned(2, "agent-1"), assigned(3, "agent-2")],
        );
        assert_eq!(views[&ID].assignee.as_ref().unwrap().as_str(), "agent-2");
        assert_eq!(views[&ID].version, 3);
        assert_eq!(applied.timeline.len(), 2);
    }

    #[test]
    fn an_unknown_type_counts_for_the_version_but_is_not_shown_and_bad_data_is_reported() {
        let mut views = HashMap::new();
        apply(&mut views, &[created()]);
        let before = views[&ID].clone();
        let applied = apply(
            &mut views,
            &[
                recorded(2, "COMPLAINT_ARCHIVED", json!({})),
                recorded(3, "COMPLAINT_ASSIGNED", json!({ "agentId": 42 })),
            ],
        );
        assert_eq!(applied.skipped, 1);
        assert!(applied.timeline.is_empty());
        assert_eq!(applied.changed.into_iter().collect::<Vec<_>>(), [ID]);
        assert_eq!(applied.undecodable.len(), 1);
        assert_eq!(applied.undecodable[0].0, Uuid::from_u128(3));
        assert_eq!(views[&ID].version, 2, "the version commands are decided at");
        assert_eq!(
            Complaint {
                version: 1,
                ..views[&ID].clone()
            },
            before,
            "nothing else moves"
        );
    }

    #[test]
    fn an_unknown_type_does_not_make_a_view_of_a_complaint_never_seen() {
        let mut views = HashMap::new();
        let applied = apply(&mut views, &[recorded(1, "COMPLAINT_ARCHIVED", json!({}))]);
        assert!(views.is_empty() && applied.changed.is_empty());
        assert_eq!(applied.skipped, 1);
    }
}
