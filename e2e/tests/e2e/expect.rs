//! Assertions several tests share: the same events in two places, each once; the same
//! complaint in the read model and rebuilt by the event store.

use crate::api::{audit::AuditEntry, event_store::StoredEvent};
use chrono::{DateTime, TimeDelta, Utc};
use shared::complaint::Complaint;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// Fails if an id occurs more than once among `what`.
pub fn once_each(what: &str, ids: impl IntoIterator<Item = Uuid>) {
    let mut counts: BTreeMap<Uuid, usize> = BTreeMap::new();
    for id in ids {
        *counts.entry(id).or_default() += 1;
    }
    let doubled: Vec<_> = counts.into_iter().filter(|(_, n)| *n > 1).collect();
    assert!(
        doubled.is_empty(),
        "{what}: ids seen more than once: {doubled:?}"
    );
}

pub fn logged_ids(events: &[StoredEvent]) -> BTreeSet<Uuid> {
    events.iter().map(|e| e.envelope.event_id).collect()
}

pub fn audited_ids(entries: &[AuditEntry]) -> BTreeSet<Uuid> {
    entries.iter().map(|e| e.event_id).collect()
}

pub fn event_types(events: &[StoredEvent]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e.envelope.event_type.as_str())
        .collect()
}

/// The event store rebuilt the complaint the read model shows: every field alike, the
/// timestamps within `tolerance` (the read model folds events at the time the database
/// recorded them, the event store at their metadata timestamp).
pub fn same_complaint(read_model: &Complaint, rebuilt: &Complaint) {
    let tolerance = TimeDelta::seconds(1);
    let close = |name: &str, a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>| match (a, b) {
        (Some(a), Some(b)) => assert!(
            (a - b).abs() <= tolerance,
            "{name}: read model {a}, event store {b}"
        ),
        (a, b) => assert_eq!(a.is_some(), b.is_some(), "{name}: {a:?} vs {b:?}"),
    };
    close("createdAt", read_model.created_at, rebuilt.created_at);
    close("updatedAt", read_model.updated_at, rebuilt.updated_at);
    close("resolvedAt", read_model.resolved_at, rebuilt.resolved_at);
    close("closedAt", read_model.closed_at, rebuilt.closed_at);
    close(
        "slaStartedAt",
        read_model.sla_started_at,
        rebuilt.sla_started_at,
    );
    close("slaDeadline", read_model.sla_deadline, rebuilt.sla_deadline);
    let untimed = |c: &Complaint| Complaint {
        created_at: None,
        updated_at: None,
        resolved_at: None,
        closed_at: None,
        sla_started_at: None,
        sla_deadline: None,
        ..c.clone()
    };
    assert_eq!(
        untimed(read_model),
        untimed(rebuilt),
        "the event store rebuilds the complaint the read model shows"
    );
}
