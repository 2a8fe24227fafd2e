//! The relay: wakes on the outbox's NOTIFY (with a slow poll as a safety net), takes the oldest
//! unpublished rows under the relay lock, publishes them in order with confirms, then deletes
//! them (or marks them published, to keep them for a retention).
//!
//! Deleted by default: a published row is of no further use (the event lives on in the
//! service's own tables, the event store and the audit trail), and keeping it cost more than
//! writing it. Marking a row is an UPDATE, which writes the row (its envelope included) again
//! and leaves the old version dead; kept a week, the outboxes grew by two row versions per
//! event, and vacuuming them was the costliest statement of a 200 complaints/s soak (0.35 ms of
//! PostgreSQL per complaint, BENCHMARKS.md, sixth session on issue 11). A DELETE writes no new
//! version, and the table holds only what is on its way out.

use super::CHANNEL_SQL;
use crate::{
    event::Envelope,
    lifecycle::{Background, Poller, Round, Worker},
    messaging::Publisher,
};
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Row};
use std::time::Duration;
use tokio::time::Instant;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct RelaySettings {
    /// Off only in tests that need events to stay in the outbox.
    pub enabled: bool,
    /// Rows published per round trip under load.
    pub batch_size: i64,
    /// The safety-net poll, should a notification be missed.
    #[serde(with = "crate::config::millis")]
    pub poll_interval: Duration,
    /// Once woken by a commit, how long the relay waits for more before it reads the outbox:
    /// at 300 commits a second, a few rows per round instead of one (see `Poller::gathering`),
    /// and the consumers downstream get them in larger batches too.
    #[serde(with = "crate::config::millis")]
    pub gather: Duration,
    /// How long published rows are kept, marked `published_at`; zero (the default): deleted
    /// as soon as they are published.
    #[serde(with = "crate::config::millis")]
    pub retention: Duration,
}

impl Default for RelaySettings {
    fn default() -> Self {
        Self {
            enabled: true,
            batch_size: 500,
            poll_interval: Duration::from_secs(1),
            gather: Duration::from_millis(20),
            retention: Duration::ZERO,
        }
    }
}

pub struct Relay {
    pool: PgPool,
    publisher: Publisher,
    settings: RelaySettings,
    /// When published rows older than the retention are next deleted (with no retention, those
    /// an earlier version kept).
    cleanup_at: Instant,
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Publish(#[from] crate::messaging::PublishError),
}

const CLEANUP_EVERY: Duration = Duration::from_secs(600);

impl Relay {
    /// Starts relaying in the background until the service stops.
    pub fn spawn(
        pool: PgPool,
        publisher: Publisher,
        settings: RelaySettings,
        background: &Background,
    ) {
        let (enabled, gather) = (settings.enabled, settings.gather);
        let relay = Relay {
            pool: pool.clone(),
            publisher,
            settings,
            cleanup_at: Instant::now(),
        };
        Poller::new("outbox relay", pool, CHANNEL_SQL)
            .enabled(enabled)
            .gathering(gather)
            .spawn(relay, background);
    }

    /// Publishes the oldest unpublished rows; returns how many.
    async fn relay_batch(&self) -> Result<usize, RelayError> {
        // Published rows leave dead entries in the `outbox_unpublished` index.
        let mut tx = crate::postgres::begin_queue_read(&self.pool).await?;
        let leader: bool = sqlx::query_scalar(&format!(
            "SELECT pg_try_advisory_xact_lock(hashtext({CHANNEL_SQL}))"
        ))
        .fetch_one(&mut *tx)
        .await?;
        if !leader {
            return Ok(0); // another instance is relaying; it keeps the order
        }
        let rows = sqlx::query(
            "SELECT position, envelope FROM outbox WHERE published_at IS NULL
             ORDER BY position LIMIT $1",
        )
        .bind(self.settings.batch_size)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            metrics::gauge!("outbox_pending").set(0.0);
            return Ok(0);
        }
        let mut positions = Vec::with_capacity(rows.len());
        let mut envelopes = Vec::with_capacity(rows.len());
        for row in &rows {
            let position: i64 = row.try_get("position")?;
            let body: serde_json::Value = row.try_get("envelope")?;
            positions.push(position);
            match serde_json::from_value::<Envelope>(body) {
                Ok(envelope) => envelopes.push(envelope),
                // Written by `enqueue` from an Envelope, so this is corruption: keep the row
                // (marked, not deleted) and shout, rather than block every later event.
                Err(error) => {
                    tracing::error!(position, %error, "outbox row is not an envelope; skipped");
                    metrics::counter!("outbox_corrupt_rows_total").increment(1);
                }
            }
        }
        self.publisher.publish_all(&envelopes).await?;
        let published = if self.settings.retention.is_zero() {
            "DELETE FROM outbox WHERE position = ANY($1)"
        } else {
            "UPDATE outbox SET published_at = now() WHERE position = ANY($1)"
        };
        sqlx::query(published)
            .bind(&positions)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        metrics::counter!("outbox_relayed_total").increment(rows.len() as u64);
        // Error events raised through an outbox (a failed saga) are counted once they are out.
        crate::event::errors::count_published(&envelopes);
        Ok(rows.len())
    }

    /// Deletes the rows published before the retention, from the oldest position up to the
    /// first row still kept (young, or unpublished): it walks the primary key over the rows it
    /// deletes and one more, instead of reading the whole outbox by `published_at`, which no
    /// index orders. A row published late behind a younger one waits for a later round.
    async fn delete_old_rows(&self) {
        let cutoff = chrono::Utc::now()
            - chrono::Duration::from_std(self.settings.retention).unwrap_or(chrono::Duration::MAX);
        if let Err(error) = sqlx::query(
            "DELETE FROM outbox WHERE position < COALESCE(
                 (SELECT position FROM outbox
                  WHERE published_at IS NULL OR published_at >= $1
                  ORDER BY position LIMIT 1),
                 (SELECT max(position) + 1 FROM outbox))",
        )
        .bind(cutoff)
        .execute(&self.pool)
        .await
        {
            tracing::warn!(%error, "could not delete old outbox rows");
        }
    }
}

impl Worker for Relay {
    type Error = RelayError;

    async fn round(&mut self) -> Result<Round, RelayError> {
        if Instant::now() >= self.cleanup_at {
            self.cleanup_at = Instant::now() + CLEANUP_EVERY;
            self.delete_old_rows().await;
        }
        let count = self.relay_batch().await?;
        Ok(if count == self.settings.batch_size as usize {
            Round::Again // more are waiting
        } else {
            Round::WaitUpTo(self.settings.poll_interval)
        })
    }
}
