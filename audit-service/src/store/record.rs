//! Appending events to the chain.
//!
//! One transaction per batch: lock the chain head (`SELECT … FOR UPDATE`, so writers in any
//! number of instances append one after the other and the chain never forks), drop the events
//! already recorded (the unique event id is the dedupe; under the lock no other writer can
//! slip one in), number the new entries after the head's last sequence, hash and link them in
//! order, insert them and move the head (one statement), lay compensation marks, commit. The consumer acks only after the commit.

use super::{compensation, Store};
use crate::{
    chain::{self, Digest, HashScheme},
    entry::{to_micros, EntryContent},
    error::AuditError,
};
use chrono::{DateTime, Utc};
use shared::event::Envelope;
use std::collections::HashSet;
use uuid::Uuid;

/// What a batch added to the trail.
#[derive(Debug, Default)]
pub struct Recorded {
    /// The new entries, in chain order (events recorded before are not in it).
    pub entries: Vec<EntryContent>,
    /// Entries newly marked compensated.
    pub marked: usize,
}

impl Store {
    /// Records `events` (in order) that are not in the trail yet, at `now`.
    pub async fn record(
        &self,
        events: &[Envelope],
        now: DateTime<Utc>,
    ) -> Result<Recorded, AuditError> {
        let mut tx = self.pool.begin().await?;
        let (last_sequence, head_hash): (i64, Vec<u8>) = sqlx::query_as(
            "SELECT last_sequence, chain_hash FROM audit_chain_head WHERE singleton FOR UPDATE",
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AuditError::CorruptChainHead("the head row is missing"))?;
        let previous = chain::digest_of(&head_hash).ok_or(AuditError::CorruptChainHead(
            "the head hash is not a SHA-256 digest",
        ))?;

        let fresh = self.not_yet_recorded(&mut tx, events).await?;
        if fresh.is_empty() {
            return Ok(Recorded::default());
        }
        // The head is locked, so the sequences after its last one are this batch's: gap-free,
        // without a round trip to the column's sequence.
        let recorded_at = to_micros(now);
        let entries: Vec<EntryContent> = fresh
            .iter()
            .zip(last_sequence + 1..)
            .map(|(event, sequence)| EntryContent::from_envelope(event, sequence, recorded_at))
            .collect();
        insert_linked(&mut tx, &entries, previous).await?;
        let marked = compensation::mark(&mut tx, &fresh, &entries, now).await?;
        tx.commit().await?;
        Ok(Recorded { entries, marked })
    }

    /// The events of `events` whose id is not in the trail, each once, in order.
    async fn not_yet_recorded<'e>(
        &self,
        tx: &mut sqlx::PgConnection,
        events: &'e [Envelope],
    ) -> Result<Vec<&'e Envelope>, AuditError> {
        let ids: Vec<Uuid> = events.iter().map(|e| e.event_id).collect();
        let known: Vec<Uuid> =
            sqlx::query_scalar("SELECT event_id FROM audit_entries WHERE event_id = ANY($1)")
                .bind(&ids)
                .fetch_all(&mut *tx)
                .await?;
        let mut seen: HashSet<Uuid> = known.into_iter().collect();
        Ok(events.iter().filter(|e| seen.insert(e.event_id)).collect())
    }
}

/// Hashes and links `entries` after `previous`, inserts them and moves the chain head to the
/// last of them, in one statement.
async fn insert_linked(
    tx: &mut sqlx::PgConnection,
    entries: &[EntryContent],
    mut previous: Digest,
) -> Result<(), AuditError> {
    let mut content_hashes = Vec::with_capacity(entries.len());
    let mut chain_hashes = Vec::with_capacity(entries.len());
    for entry in entries {
        let content = chain::content_hash(entry, HashScheme::CURRENT);
        previous = chain::chain_hash(&previous, &content);
        content_hashes.push(content.to_vec());
        chain_hashes.push(previous.to_vec());
    }
    let column = |f: fn(&EntryContent) -> String| entries.iter().map(f).collect::<Vec<_>>();
    let optional =
        |f: fn(&EntryContent) -> Option<String>| entries.iter().map(f).collect::<Vec<_>>();
    let last_sequence = entries.last().map_or(0, |e| e.sequence);
    sqlx::query(
        "WITH inserted AS (
             INSERT INTO audit_entries (sequence, event_id, event_type, aggregate_type,
                 aggregate_id, aggregate_version, actor, service, correlation_id, causation_id,
                 occurred_at, recorded_at, payload, content_hash, chain_hash, hash_scheme)
             SELECT entry.*, $16::smallint FROM UNNEST($1::bigint[], $2::uuid[], $3::text[],
                 $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[],
                 $10::text[], $11::timestamptz[], $12::timestamptz[], $13::jsonb[], $14::bytea[],
                 $15::bytea[]) AS entry
             RETURNING 1)
         UPDATE audit_chain_head
         SET last_sequence = $17, chain_hash = $18,
             entries = entries + (SELECT count(*) FROM inserted), updated_at = now()
         WHERE singleton",
    )
    .bind(entries.iter().map(|e| e.sequence).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.event_id).collect::<Vec<_>>())
    .bind(column(|e| e.event_type.clone()))
    .bind(column(|e| e.aggregate_type.clone()))
    .bind(column(|e| e.aggregate_id.clone()))
    .bind(
        entries
            .iter()
            .map(|e| e.aggregate_version)
            .collect::<Vec<_>>(),
    )
    .bind(optional(|e| e.actor.clone()))
    .bind(column(|e| e.service.clone()))
    .bind(column(|e| e.correlation_id.clone()))
    .bind(optional(|e| e.causation_id.clone()))
    .bind(entries.iter().map(|e| e.occurred_at).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.recorded_at).collect::<Vec<_>>())
    .bind(
        entries
            .iter()
            .map(|e| e.payload.clone())
            .collect::<Vec<_>>(),
    )
    .bind(content_hashes)
    .bind(chain_hashes)
    .bind(HashScheme::CURRENT.number())
    .bind(last_sequence)
    .bind(previous.to_vec())
    .execute(&mut *tx)
    .await?;
    Ok(())
}
