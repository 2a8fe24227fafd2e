//! PostgreSQL pools: one schema per service (and per test), created on first connect, a
//! `statement_timeout` on every connection, so no query holds a connection and a CPU without
//! bound, and plans made for each statement's parameters; which errors mean "unavailable, try
//! again"; the NOTIFY wake-ups of background loops; and the start-up check of the tables
//! shared code needs.

mod schema;
mod unavailable;
mod upkeep;
mod wakeups;

pub use schema::{require_columns, SchemaError};
pub use unavailable::is_unavailable;
pub use upkeep::keep_tables;
pub use wakeups::Wakeups;

use serde::{Deserialize, Serialize};
use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    Executor, PgPool,
};
use std::{str::FromStr, time::Duration};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseSettings {
    /// `DATABASE_URL`.
    pub url: String,
    /// Every table of the service lives in this schema (tests use a fresh one each).
    pub schema: String,
    pub max_connections: u32,
    /// Of `max_connections`, how many requests may never take: they stay free for the
    /// consumers, relay and projector, so a flood of requests queues at the API (its latency
    /// shows the overload) instead of starving the work that keeps the views current.
    pub reserved_for_background: u32,
    /// PostgreSQL cancels any statement running longer (`APP_DATABASE__STATEMENT_TIMEOUT`,
    /// milliseconds; 0 means no limit). The API answers such a cancellation with a 503.
    #[serde(with = "crate::config::millis")]
    pub statement_timeout: Duration,
}

impl DatabaseSettings {
    pub fn new(schema: &str) -> Self {
        Self {
            url: "postgres://postgres:postgres@127.0.0.1:5432/complaints".to_owned(),
            schema: schema.to_owned(),
            max_connections: 10,
            reserved_for_background: 3,
            statement_timeout: Duration::from_secs(30),
        }
    }
}

impl DatabaseSettings {
    /// How many connections requests may hold at once (at least one).
    pub fn request_connections(&self) -> usize {
        self.max_connections
            .saturating_sub(self.reserved_for_background)
            .max(1) as usize
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self::new("public")
    }
}

/// A pool whose connections all use `settings.schema`, which is created if missing.
pub async fn connect(settings: &DatabaseSettings) -> Result<PgPool, sqlx::Error> {
    if !settings
        .schema
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(sqlx::Error::Configuration(
            format!("schema name {:?} must be [A-Za-z0-9_]", settings.schema).into(),
        ));
    }
    let options = PgConnectOptions::from_str(&settings.url)?;
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options.clone())
        .await?;
    admin
        .execute(format!("CREATE SCHEMA IF NOT EXISTS \"{}\"", settings.schema).as_str())
        .await?;
    admin.close().await;
    let statement_timeout = settings.statement_timeout.as_millis().to_string();
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options.options([
            ("search_path", settings.schema.as_str()),
            ("statement_timeout", statement_timeout.as_str()),
            // Plans are cached as PostgreSQL does by default; see `upkeep` for how they
            // follow the tables' growth where autovacuum is off.
        ]))
        .await
}

/// Starts a transaction that reads a queue kept as a partial index: rows leave it by an
/// UPDATE (an outbox's unpublished rows, pending notifications), which leaves a dead entry
/// in the index until a VACUUM. Without statistics (autovacuum off, or not run yet) the
/// planner reads such an index with a bitmap scan, which visits every dead row on every
/// poll, so the cost grows with everything that ever went through the queue (measured: 3 ms
/// per poll of 12,000 sent notifications, against 0.05 ms). A plain index scan marks the
/// dead entries once and skips them after; this transaction allows only that. Nor a
/// sequential scan: a queue is small, and empty at times (an outbox deletes what it
/// published), so a generic plan made while it was empty would read it whole on every poll,
/// dead rows included, where the queue's index serves.
pub async fn begin_queue_read(
    pool: &PgPool,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
    pool.begin_with("BEGIN; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_seqscan = off")
        .await
}

/// The pool of a service that publishes through the outbox and dedupes through the inbox: its
/// schema's `migrations` applied, then the tables shared code needs checked (see
/// [`require_columns`]).
pub async fn connect_migrated(
    settings: &DatabaseSettings,
    migrations: sqlx::migrate::Migrator,
) -> anyhow::Result<PgPool> {
    let pool = connect(settings).await?;
    migrations.run(&pool).await?;
    crate::outbox::require_table(&pool).await?;
    crate::inbox::require_table(&pool).await?;
    Ok(pool)
}
