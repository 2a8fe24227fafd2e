//! Periodic cleaning: answers to idempotent creates are forgotten after their retention.

use shared::lifecycle::Background;
use sqlx::PgPool;
use std::time::Duration;

use crate::store::idempotency;

const EVERY: Duration = Duration::from_secs(600);

pub fn spawn(pool: PgPool, retention: Duration, background: &Background) {
    let shutdown = background.shutdown.clone();
    background.tracker.spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tick.tick() => match idempotency::delete_older_than(&pool, retention).await {
                    Ok(0) => {}
                    Ok(deleted) => tracing::info!(deleted, "expired idempotency keys deleted"),
                    Err(error) => tracing::warn!(%error, "could not delete expired idempotency keys"),
                },
            }
        }
    });
}
