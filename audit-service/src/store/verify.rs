//! Feeding the chain walker (`crate::verify`) from the table, one page at a time, so a trail
//! of any size is verified in constant memory.
//!
//! The head is read first: everything up to its sequence was committed with it, so the walk
//! sees all of it, while entries appended during the walk are left for the next run.

use super::{EntryRow, Store, ENTRY_COLUMNS};
use crate::{
    entry::StoredEntry,
    error::AuditError,
    verify::{BreakKind, BrokenLink, ChainHead, ChainWalker, Verification},
};

impl Store {
    /// Walks the whole chain, `page_size` entries per query, and says where it first breaks.
    pub async fn verify(&self, page_size: u32) -> Result<Verification, AuditError> {
        let page_size = page_size.max(1);
        let Some(head) = self.chain_head().await? else {
            return Ok(Verification {
                valid: false,
                checked: 0,
                head_sequence: 0,
                first_broken_at: Some(BrokenLink {
                    sequence: 0,
                    event_id: None,
                    kind: BreakKind::HeadMismatch,
                    reason: "the chain head is missing".to_owned(),
                }),
            });
        };
        let mut walker = ChainWalker::new();
        let outcome = loop {
            let page = self
                .chain_page(walker.last_sequence(), head.last_sequence, page_size)
                .await?;
            let full = page.len() == page_size as usize;
            if let Err(broken) = page.iter().try_for_each(|entry| walker.check(entry)) {
                break Err(broken);
            }
            if !full {
                break walker.finish(&head);
            }
        };
        Ok(Verification {
            valid: outcome.is_ok(),
            checked: walker.checked(),
            head_sequence: head.last_sequence,
            first_broken_at: outcome.err(),
        })
    }

    async fn chain_head(&self) -> Result<Option<ChainHead>, AuditError> {
        let row: Option<(i64, Vec<u8>, i64)> = sqlx::query_as(
            "SELECT last_sequence, chain_hash, entries FROM audit_chain_head WHERE singleton",
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(last_sequence, chain_hash, entries)| ChainHead {
            last_sequence,
            chain_hash,
            entries,
        }))
    }

    /// Entries after `after` up to `up_to`, in sequence order.
    async fn chain_page(
        &self,
        after: i64,
        up_to: i64,
        limit: u32,
    ) -> Result<Vec<StoredEntry>, AuditError> {
        let rows: Vec<EntryRow> = sqlx::query_as(&format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_entries
             WHERE sequence > $1 AND sequence <= $2 ORDER BY sequence LIMIT $3"
        ))
        .bind(after)
        .bind(up_to)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(StoredEntry::from).collect())
    }
}
