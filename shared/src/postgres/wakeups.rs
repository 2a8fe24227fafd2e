//! Waking a background loop as soon as a transaction commits work for it: a LISTEN on the
//! channel its writers NOTIFY, kept alive across lost connections. The loops also poll, so a
//! wake-up lost while the database is unreachable only delays work, never loses it.

use sqlx::{postgres::PgListener, PgPool};
use std::time::Duration;
use tokio::time::Instant;

/// How long to wait before listening again after the database refused.
const RELISTEN_PAUSE: Duration = Duration::from_secs(5);

/// Wake-ups from one NOTIFY channel.
pub struct Wakeups {
    pool: PgPool,
    /// An SQL expression naming the channel, such as `current_schema() || '_outbox'`, so that
    /// services and tests sharing a database (one schema each) never wake each other.
    channel_sql: &'static str,
    listener: Option<PgListener>,
    /// When to try listening again. Kept here rather than in a sleep of [`Wakeups::next`],
    /// because the caller's poll tick cancels that future far more often than every
    /// [`RELISTEN_PAUSE`]: a pause restarted on each call would never end.
    relisten_at: Instant,
}

impl Wakeups {
    /// Starts listening; if the database is unreachable now, [`Wakeups::next`] tries again.
    pub async fn listen(pool: &PgPool, channel_sql: &'static str) -> Self {
        let mut wakeups = Wakeups {
            pool: pool.clone(),
            channel_sql,
            listener: None,
            relisten_at: Instant::now(),
        };
        wakeups.relisten().await;
        wakeups
    }

    /// Resolves at the next NOTIFY, and also whenever notifications may have been missed (the
    /// connection was lost, or listening has just resumed), since the caller should then look
    /// for work. Cancel-safe: the caller may select on it beside a poll tick.
    pub async fn next(&mut self) {
        if let Some(listener) = &mut self.listener {
            match listener.try_recv().await {
                // A notification, or `None`: the connection was lost and made again.
                Ok(_) => return,
                Err(error) => {
                    tracing::warn!(%error, channel = self.channel_sql, "lost the NOTIFY listener");
                    self.listener = None;
                    self.relisten_at = Instant::now() + RELISTEN_PAUSE;
                }
            }
        }
        while self.listener.is_none() {
            tokio::time::sleep_until(self.relisten_at).await;
            self.relisten().await;
        }
    }

    async fn relisten(&mut self) {
        match listen(&self.pool, self.channel_sql).await {
            Ok(listener) => self.listener = Some(listener),
            Err(error) => {
                tracing::warn!(%error, channel = self.channel_sql, "cannot LISTEN; polling only for now");
                self.relisten_at = Instant::now() + RELISTEN_PAUSE;
            }
        }
    }
}

async fn listen(pool: &PgPool, channel_sql: &str) -> Result<PgListener, sqlx::Error> {
    let channel: String = sqlx::query_scalar(&format!("SELECT {channel_sql}"))
        .fetch_one(pool)
        .await?;
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(&channel).await?;
    Ok(listener)
}
