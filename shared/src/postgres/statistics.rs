//! Planner statistics where autovacuum does not keep them.
//!
//! The pools plan as PostgreSQL does by default: a prepared statement gets a generic plan
//! after five custom ones, and keeps it until the statistics of a table it reads change.
//! Planning each execution instead (`plan_cache_mode=force_custom_plan`) cost about 50 µs per
//! statement, 1 to 1.5 ms of PostgreSQL CPU per complaint across the suite (pgbench, prepared,
//! two statements: 0.38 against 0.28 ms). Where autovacuum runs, it analyzes a table as it
//! grows and the plans follow. Where it is off (this project's CI machine), nothing would: a
//! plan made while a table was nearly empty (a sequential scan) would read it whole for the
//! connection's life; a 300/s run once read `complaint_events` by 4,931 sequential scans. So
//! there each service analyzes its own schema's tables, by autovacuum's own rule: a table
//! once a tenth of it (and 50 rows) changed since it was last analyzed, from a small sample
//! (statistics target 10: 3,000 rows): the plans here need row counts and little else, and
//! the outboxes, whose rows change three times each, were analyzed every few seconds at
//! 300/s, at up to 0.7 ms of PostgreSQL per complaint with the default sample (30,000 rows
//! of JSON).

use crate::lifecycle::Background;
use sqlx::PgPool;
use std::time::Duration;

/// How often the tables are looked at where autovacuum is off.
const EVERY: Duration = Duration::from_secs(30);

/// Analyzes the tables of the pool's schema that changed enough, every [`EVERY`], if
/// autovacuum is off.
pub fn keep_statistics(pool: PgPool, background: &Background) {
    let shutdown = background.shutdown.clone();
    background.tracker.spawn(async move {
        match autovacuum_on(&pool).await {
            Ok(true) => return,
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "cannot tell whether autovacuum runs; analyzing"),
        }
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tick.tick() => if let Err(error) = analyze_schema(&pool).await {
                    tracing::warn!(%error, "could not analyze the schema's tables");
                },
            }
        }
    });
}

async fn autovacuum_on(pool: &PgPool) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT current_setting('autovacuum')::boolean")
        .fetch_one(pool)
        .await
}

async fn analyze_schema(pool: &PgPool) -> Result<(), sqlx::Error> {
    // autovacuum_analyze_threshold and autovacuum_analyze_scale_factor, at their defaults.
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT s.relname::text
         FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
         WHERE s.schemaname = current_schema()
           AND s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0)",
    )
    .fetch_all(pool)
    .await?;
    for table in tables {
        // One transaction per table: its lock is held only while that table is analyzed.
        let mut tx = pool
            .begin_with("BEGIN; SET LOCAL default_statistics_target = 10")
            .await?;
        let statement = format!("ANALYZE \"{}\"", table.replace('"', "\"\""));
        sqlx::query(&statement)
            .persistent(false)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(())
}
