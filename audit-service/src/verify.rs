//! Walking the chain: the pure checks behind `GET /api/audit/verify`. The store feeds the
//! entries in sequence order, page by page; the walker keeps only the previous link.

use crate::{
    chain::{self, Digest, HashScheme, GENESIS},
    entry::StoredEntry,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// The end of the chain as the writers left it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainHead {
    pub last_sequence: i64,
    pub chain_hash: Vec<u8>,
    pub entries: i64,
}

/// Why the chain is broken at an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BreakKind {
    /// The entry's content no longer hashes to its content hash: it was modified.
    ContentAltered,
    /// The entry does not link to the one before it: an entry before it was removed, or the
    /// hashes were rewritten.
    LinkBroken,
    /// A stored hash is not a SHA-256 digest at all.
    MalformedHash,
    /// The chain ends before the head: entries at the end were removed.
    TailMissing,
    /// The last entry is not the one the head records, or the count differs.
    HeadMismatch,
}

/// The first place the chain is broken.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BrokenLink {
    pub sequence: i64,
    /// The entry's event, when the entry is there to name it.
    pub event_id: Option<Uuid>,
    pub kind: BreakKind,
    pub reason: String,
}

/// The outcome of a walk.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    pub valid: bool,
    /// Entries checked (up to and including a broken one).
    pub checked: u64,
    /// The highest sequence the walk covered (the head when it started).
    pub head_sequence: i64,
    pub first_broken_at: Option<BrokenLink>,
}

/// Checks entries one after the other, in sequence order.
#[derive(Debug)]
pub struct ChainWalker {
    previous: Digest,
    last_sequence: i64,
    checked: u64,
}

impl Default for ChainWalker {
    fn default() -> Self {
        Self {
            previous: GENESIS,
            last_sequence: 0,
            checked: 0,
        }
    }
}

impl ChainWalker {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn checked(&self) -> u64 {
        self.checked
    }

    /// The sequence of the last entry checked (0 before any).
    pub fn last_sequence(&self) -> i64 {
        self.last_sequence
    }

    /// Checks the next entry: its content against its content hash, then its link.
    pub fn check(&mut self, entry: &StoredEntry) -> Result<(), BrokenLink> {
        let content = &entry.content;
        self.checked += 1;
        let broken = |kind, reason: &str| BrokenLink {
            sequence: content.sequence,
            event_id: Some(content.event_id),
            kind,
            reason: reason.to_owned(),
        };
        let (Some(stored_content), Some(stored_chain)) = (
            chain::digest_of(&entry.content_hash),
            chain::digest_of(&entry.chain_hash),
        ) else {
            return Err(broken(
                BreakKind::MalformedHash,
                "a stored hash is not a 32-byte SHA-256 digest",
            ));
        };
        let Some(scheme) = HashScheme::from_number(entry.hash_scheme) else {
            return Err(broken(
                BreakKind::MalformedHash,
                &format!(
                    "the entry names hash scheme {}, which this version does not know",
                    entry.hash_scheme
                ),
            ));
        };
        if chain::content_hash(content, scheme) != stored_content {
            return Err(broken(
                BreakKind::ContentAltered,
                "the entry's content does not match its content hash: it was modified after it was recorded",
            ));
        }
        if chain::chain_hash(&self.previous, &stored_content) != stored_chain {
            return Err(broken(
                BreakKind::LinkBroken,
                "the entry does not link to the entry before it: an earlier entry was removed or its hashes rewritten",
            ));
        }
        self.previous = stored_chain;
        self.last_sequence = content.sequence;
        Ok(())
    }

    /// After the last entry: the walk must end where the head says the chain ends.
    pub fn finish(&self, head: &ChainHead) -> Result<(), BrokenLink> {
        let at_head = |kind, reason: String| BrokenLink {
            sequence: head.last_sequence,
            event_id: None,
            kind,
            reason,
        };
        if self.last_sequence < head.last_sequence {
            return Err(at_head(
                BreakKind::TailMissing,
                format!(
                    "the chain ends at sequence {} but its head records sequence {}: entries at the end were removed",
                    self.last_sequence, head.last_sequence
                ),
            ));
        }
        if head.chain_hash.as_slice() != self.previous.as_slice() {
            return Err(at_head(
                BreakKind::HeadMismatch,
                "the last entry's chain hash is not the one the chain head records".to_owned(),
            ));
        }
        if i64::try_from(self.checked).ok() != Some(head.entries) {
            return Err(at_head(
                BreakKind::HeadMismatch,
                format!(
                    "{} entries were found but the chain head counts {}",
                    self.checked, head.entries
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::EntryContent;
    use serde_json::json;

    fn content(sequence: i64) -> EntryContent {
        EntryContent {
            sequence,
            event_id: Uuid::from_u128(sequence as u128),
            event_type: "SAGA_STARTED".into(),
            aggregate_type: "Saga".into(),
            aggregate_id: "s-1".into(),
            aggregate_version: sequence,
            actor: None,
            service: "complaint-service".into(),
            correlation_id: "c".into(),
            causation_id: None,
            occurred_at: "2024-05-01T10:00:00Z".parse().unwrap(),
            recorded_at: "2024-05-01T10:00:00Z".parse().unwrap(),
            payload: json!({ "n": sequence }),
        }
    }

    /// A well-formed chain of the given sequences, as the writer would store it.
    fn chain_of(sequences: &[i64]) -> Vec<StoredEntry> {
        let mut previous = GENESIS;
        sequences
            .iter()
            .map(|&s| {
                let content = content(s);
                // Older entries keep the first scheme: a trail spans both.
                let scheme = if s % 2 == 0 {
                    HashScheme::Legacy
                } else {
                    HashScheme::Jcs
                };
                let hash = chain::content_hash(&content, scheme);
                previous = chain::chain_hash(&previous, &hash);
                StoredEntry {
                    content,
                    hash_scheme: scheme.number(),
                    content_hash: hash.to_vec(),
                    chain_hash: previous.to_vec(),
                }
            })
            .collect()
    }

    fn head_of(entries: &[StoredEntry]) -> ChainHead {
        let last = entries.last();
        ChainHead {
            last_sequence: last.map_or(0, |e| e.content.sequence),
            chain_hash: last.map_or(GENESIS.to_vec(), |e| e.chain_hash.clone()),
            entries: entries.len() as i64,
        }
    }

    fn walk(entries: &[StoredEntry], head: &ChainHead) -> Result<u64, BrokenLink> {
        let mut walker = ChainWalker::new();
        for entry in entries {
            walker.check(entry)?;
        }
        walker.finish(head)?;
        Ok(walker.checked())
    }

    #[test]
    fn an_untouched_chain_is_valid_even_with_gaps_in_its_sequences() {
        let entries = chain_of(&[1, 2, 5, 6]);
        assert_eq!(walk(&entries, &head_of(&entries)), Ok(4));
    }

    #[test]
    fn an_empty_chain_is_valid() {
        assert_eq!(walk(&[], &head_of(&[])), Ok(0));
    }

    #[test]
    fn a_modified_entry_breaks_at_itself() {
        let entries = chain_of(&[1, 2, 3]);
        let head = head_of(&entries);
        let mut tampered = entries.clone();
        tampered[1].content.payload = json!({ "n": 99 });
        let broken = walk(&tampered, &head).unwrap_err();
        assert_eq!(
            (broken.sequence, broken.kind),
            (2, BreakKind::ContentAltered)
        );
        assert_eq!(broken.event_id, Some(Uuid::from_u128(2)));
    }

    #[test]
    fn a_removed_entry_breaks_the_link_of_the_next_one() {
        let entries = chain_of(&[1, 2, 3, 4]);
        let head = head_of(&entries);
        let without_second: Vec<StoredEntry> = entries
            .iter()
            .filter(|e| e.content.sequence != 2)
            .cloned()
            .collect();
        let broken = walk(&without_second, &head).unwrap_err();
        assert_eq!((broken.sequence, broken.kind), (3, BreakKind::LinkBroken));
    }

    #[test]
    fn a_removed_first_entry_breaks_the_link_of_the_second() {
        let entries = chain_of(&[1, 2]);
        let broken = walk(&entries[1..], &head_of(&entries)).unwrap_err();
        assert_eq!((broken.sequence, broken.kind), (2, BreakKind::LinkBroken));
    }

    #[test]
    fn a_removed_tail_is_told_by_the_head() {
        let entries = chain_of(&[1, 2, 3]);
        let broken = walk(&entries[..2], &head_of(&entries)).unwrap_err();
        assert_eq!((broken.sequence, broken.kind), (3, BreakKind::TailMissing));
        assert_eq!(broken.event_id, None);
    }

    #[test]
    fn rewritten_hashes_that_do_not_reach_the_head_are_caught_there() {
        let entries = chain_of(&[1, 2]);
        let mut head = head_of(&entries);
        head.chain_hash = vec![7; 32];
        let broken = walk(&entries, &head).unwrap_err();
        assert_eq!(broken.kind, BreakKind::HeadMismatch);
        head = head_of(&entries);
        head.entries = 3;
        assert_eq!(
            walk(&entries, &head).unwrap_err().kind,
            BreakKind::HeadMismatch
        );
    }

    #[test]
    fn a_truncated_hash_is_malformed() {
        let mut entries = chain_of(&[1]);
        let head = head_of(&entries);
        entries[0].chain_hash.pop();
        assert_eq!(
            walk(&entries, &head).unwrap_err().kind,
            BreakKind::MalformedHash
        );
    }
}
