//! What the API answers with: entries as auditors read them, with their hashes in hex and
//! the compensation marks laid over them.

use crate::{compensation::CompensationMark, entry::StoredEntry, error::AuditError, store::Store};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use utoipa::ToSchema;
use uuid::Uuid;

/// One recorded event.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntryView {
    /// Its place in the hash chain.
    pub sequence: i64,
    pub event_id: Uuid,
    #[schema(example = "COMPLAINT_ASSIGNED")]
    pub event_type: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub aggregate_version: i64,
    /// Who did it (`metadata.userId`).
    pub actor: Option<String>,
    /// The publishing service (`metadata.source`).
    pub service: String,
    pub correlation_id: String,
    pub causation_id: Option<String>,
    /// When the event happened (`metadata.timestamp`).
    pub timestamp: DateTime<Utc>,
    /// When the trail recorded it.
    pub recorded_at: DateTime<Utc>,
    /// The event's data.
    #[schema(value_type = Object)]
    pub payload: Value,
    /// How the content was made canonical before hashing: 2 is RFC 8785 (JCS), 1 the first
    /// scheme of the trail (serde_json's number forms).
    pub hash_scheme: i16,
    /// SHA-256 of the entry's canonical content, hex.
    pub content_hash: String,
    /// SHA-256 of the previous chain hash and this content hash, hex.
    pub chain_hash: String,
    /// Whether the entry belongs to a compensated saga step.
    pub compensated: bool,
    pub compensations: Vec<CompensationView>,
}

/// A compensation that covers an entry.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompensationView {
    /// The COMPLAINT_COMPENSATION_REQUIRED event.
    pub compensating_event_id: Uuid,
    pub reason: String,
    pub failed_step: String,
    pub compensated_at: DateTime<Utc>,
}

/// A page of entries, latest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntryPage {
    pub entries: Vec<EntryView>,
    /// Pass it as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// One aggregate's entries, in the order things happened.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrailView {
    pub aggregate_id: String,
    pub entries: Vec<EntryView>,
    pub next_cursor: Option<String>,
}

/// An entry in a causal chain.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CausalEntryView {
    #[serde(flatten)]
    pub entry: EntryView,
    /// How many of its causes precede it in this chain (0 for a root).
    pub depth: u32,
    /// The event that caused it, when that event is in this chain.
    pub parent_event_id: Option<Uuid>,
}

/// Everything one request or saga caused, across services, causes before effects.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CorrelationView {
    pub correlation_id: String,
    pub entries: Vec<CausalEntryView>,
    /// More entries share this correlation id than one answer holds.
    pub truncated: bool,
}

/// The views of `entries`, with their marks (one query for all of them).
pub async fn with_marks(
    store: &Store,
    entries: Vec<StoredEntry>,
) -> Result<Vec<EntryView>, AuditError> {
    let ids: Vec<Uuid> = entries.iter().map(|e| e.content.event_id).collect();
    let mut marks: HashMap<Uuid, Vec<CompensationView>> = HashMap::new();
    for mark in store.marks(&ids).await? {
        marks
            .entry(mark.entry_event_id)
            .or_default()
            .push(CompensationView::from(mark));
    }
    Ok(entries
        .into_iter()
        .map(|entry| {
            let compensations = marks.remove(&entry.content.event_id).unwrap_or_default();
            EntryView::new(entry, compensations)
        })
        .collect())
}

impl EntryView {
    fn new(entry: StoredEntry, compensations: Vec<CompensationView>) -> Self {
        let c = entry.content;
        Self {
            sequence: c.sequence,
            event_id: c.event_id,
            event_type: c.event_type,
            aggregate_type: c.aggregate_type,
            aggregate_id: c.aggregate_id,
            aggregate_version: c.aggregate_version,
            actor: c.actor,
            service: c.service,
            correlation_id: c.correlation_id,
            causation_id: c.causation_id,
            timestamp: c.occurred_at,
            recorded_at: c.recorded_at,
            payload: c.payload,
            hash_scheme: entry.hash_scheme,
            content_hash: hex::encode(entry.content_hash),
            chain_hash: hex::encode(entry.chain_hash),
            compensated: !compensations.is_empty(),
            compensations,
        }
    }
}

impl From<CompensationMark> for CompensationView {
    fn from(mark: CompensationMark) -> Self {
        Self {
            compensating_event_id: mark.compensating_event_id,
            reason: mark.reason,
            failed_step: mark.failed_step,
            compensated_at: mark.compensated_at,
        }
    }
}
