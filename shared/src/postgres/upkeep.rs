//! Autovacuum's work, where autovacuum does not run.
//!
//! **Statistics.** The pools plan as PostgreSQL does by default: a prepared statement gets a
//! generic plan after five custom ones, and keeps it until the statistics of a table it reads
//! change. Planning each execution instead (`plan_cache_mode=force_custom_plan`) cost about
//! 50 µs per statement, 1 to 1.5 ms of PostgreSQL CPU per complaint across the suite
//! (pgbench, prepared, two statements: 0.38 against 0.28 ms). Where autovacuum runs, it
//! analyzes a table as it grows and the plans follow. Where it is off (this project's CI
//! machine), nothing would: a plan made while a table was nearly empty (a sequential scan)
//! would read it whole for the connection's life; a 300/s run once read `complaint_events` by
//! 4,931 sequential scans. So there each service analyzes its own schema's tables, by
//! autovacuum's own rule: a table once a tenth of it (and 50 rows) changed since it was last
//! analyzed, from a small sample (statistics target 10: 3,000 rows): the plans here need row
//! counts and little else, and the outboxes, whose rows change three times each, were
//! analyzed every few seconds at 300/s, at up to 0.7 ms of PostgreSQL per complaint with the
//! default sample (30,000 rows of JSON).
//!
//! **Dead rows.** Every notification and saga is updated after its insert, and every outbox
//! row is deleted once published (it was updated, before): each leaves a dead row version.
//! Without VACUUM nothing reclaims them: after 60,000 complaints the outboxes, notifications
//! and sagas held as many dead rows as live ones, twice their size, and every scan,
//! index probe and ANALYZE sample read through them (ANALYZE of an outbox took 1 s, 35 ms
//! once vacuumed). So there each service also vacuums its tables, by autovacuum's rules: once
//! dead rows pass a fifth of the table (and 50), or rows inserted since the last VACUUM pass a
//! fifth (and 1,000), which marks the pages of insert-only tables all-visible for index-only
//! scans. Each VACUUM costs a pass over the table's indexes; at a fifth of the table between
//! passes, that cost per row stays the same however large the table grows. Both run at
//! autovacuum's pace (`vacuum_cost_delay` 2 ms per 200 units of page work), so a pass over a
//! large table spreads its reads and writes instead of taking the disk all at once.
//!
//! **Young tables sooner.** Plans follow a table's size only when they are made again, and an
//! ANALYZE of the table is what makes them so. On a fresh store the first plans are made
//! while the tables are nearly empty (sequential scans): looked at every 30 s, a fresh
//! store's first half-minute at 300/s read `complaint_view` by 2,802 sequential scans
//! (11.3 M rows). So every 5 s a service also glances at its tables and analyzes those that
//! hold more than twice the rows their statistics know, and 1,000 more. Each such ANALYZE at
//! least doubles what the statistics know, so a table gets about ten on its way to a million
//! rows; the outboxes, which stay small, never get one this way.
//!
//! **One vacuum at a time.** autovacuum shares that pace among all its workers; services that
//! each kept their own would not: three passes at once (one per service) wrote three times as
//! fast, and in a 10-minute soak at 200/s the minutes where they did stood out in every
//! view's lag (p99 one and a half to two times the other minutes'). So a service vacuums
//! only while it holds the database's vacuum turn (an advisory lock); one that finds it
//! taken waits for it, polling, and ANALYZE, which reads a small sample, goes on meanwhile.

use crate::lifecycle::Background;
use sqlx::{Connection, PgPool};
use std::time::Duration;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

/// How often the tables are looked at where autovacuum is off.
const EVERY: Duration = Duration::from_secs(30);
/// How often they are glanced at for tables that outgrew their statistics.
const GLANCE: Duration = Duration::from_secs(5);
/// How often a service waiting for the vacuum turn asks for it again.
const TURN_POLL: Duration = Duration::from_secs(1);
/// The advisory lock every service of a database takes to vacuum (session-level, so it goes
/// with the connection whatever happens to the pass).
const VACUUM_TURN: &str =
    "SELECT pg_try_advisory_lock(hashtext('shared::postgres::upkeep vacuum'))";

/// Vacuums and analyzes the tables of the pool's schema that need it, every [`EVERY`], and
/// those that outgrew their statistics every [`GLANCE`], if autovacuum is off.
pub fn keep_tables(pool: PgPool, background: &Background) {
    let shutdown = background.shutdown.clone();
    background.tracker.spawn(async move {
        match autovacuum_on(&pool).await {
            Ok(true) => return,
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(%error, "cannot tell whether autovacuum runs; keeping the tables")
            }
        }
        let [mut look, mut glance] = [EVERY, GLANCE].map(|period| {
            let mut tick = tokio::time::interval(period);
            // A pass that waited for its turn or ran long is not followed by a burst of rounds.
            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
            tick
        });
        loop {
            let done = tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = look.tick() => upkeep(&pool, &shutdown).await,
                _ = glance.tick() => analyze_outgrown(&pool).await,
            };
            if let Err(error) = done {
                tracing::warn!(%error, "could not vacuum or analyze the schema's tables");
            }
        }
    });
}

async fn autovacuum_on(pool: &PgPool) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT current_setting('autovacuum')::boolean")
        .fetch_one(pool)
        .await
}

/// What one table of the schema needs now.
#[derive(sqlx::FromRow)]
struct Due {
    table: String,
    vacuum: bool,
    analyze: bool,
}

async fn upkeep(pool: &PgPool, shutdown: &CancellationToken) -> Result<(), sqlx::Error> {
    // The thresholds and scale factors of autovacuum, at their defaults.
    let due: Vec<Due> = sqlx::query_as(
        "SELECT s.relname::text AS table,
                s.n_dead_tup > 50 + 0.2 * greatest(c.reltuples, 0)
                  OR s.n_ins_since_vacuum > 1000 + 0.2 * greatest(c.reltuples, 0) AS vacuum,
                s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0) AS analyze
         FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
         WHERE s.schemaname = current_schema()",
    )
    .fetch_all(pool)
    .await?;
    let vacuum: Vec<&str> = due
        .iter()
        .filter(|due| due.vacuum)
        .map(|due| due.table.as_str())
        .collect();
    for table in due.iter().filter(|due| due.analyze) {
        analyze_table(pool, &table.table).await?;
    }
    if !vacuum.is_empty() {
        vacuum_tables(pool, &vacuum, shutdown).await?;
    }
    Ok(())
}

/// Analyzes the tables that hold more than twice the rows their statistics know, and 1,000
/// more (see the module's notes).
async fn analyze_outgrown(pool: &PgPool) -> Result<(), sqlx::Error> {
    let outgrown: Vec<String> = sqlx::query_scalar(
        "SELECT s.relname::text
         FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
         WHERE s.schemaname = current_schema()
           AND s.n_live_tup > 1000 + 2 * greatest(c.reltuples, 0)",
    )
    .fetch_all(pool)
    .await?;
    for table in &outgrown {
        analyze_table(pool, table).await?;
    }
    Ok(())
}

/// VACUUM runs outside a transaction and may take longer than the pool's `statement_timeout`
/// allows a query: it gets a connection of its own, without that limit, closed after. It
/// waits for the database's vacuum turn (see the module's notes), unless the service stops
/// first. A table another instance is vacuuming is skipped (`SKIP_LOCKED`), not waited for.
async fn vacuum_tables(
    pool: &PgPool,
    tables: &[&str],
    shutdown: &CancellationToken,
) -> Result<(), sqlx::Error> {
    let mut connection = pool.acquire().await?.detach();
    while !sqlx::query_scalar::<_, bool>(VACUUM_TURN)
        .fetch_one(&mut connection)
        .await?
    {
        tokio::select! {
            _ = shutdown.cancelled() => return connection.close().await,
            _ = tokio::time::sleep(TURN_POLL) => {}
        }
    }
    // No time limit, and autovacuum's pace, which a manual VACUUM does not get (it runs
    // unthrottled).
    let settings = [
        "SET statement_timeout = 0",
        "SET vacuum_cost_delay = '2ms'",
        "SET vacuum_cost_limit = 200",
    ];
    let vacuums = tables
        .iter()
        .map(|table| format!("VACUUM (SKIP_LOCKED) {}", quoted(table)));
    for statement in settings.map(str::to_owned).into_iter().chain(vacuums) {
        sqlx::query(&statement)
            .persistent(false)
            .execute(&mut connection)
            .await?;
    }
    connection.close().await
}

async fn analyze_table(pool: &PgPool, table: &str) -> Result<(), sqlx::Error> {
    // One transaction per table: its lock is held only while that table is analyzed.
    let mut tx = pool
        .begin_with(
            "BEGIN; SET LOCAL default_statistics_target = 10;
             SET LOCAL vacuum_cost_delay = '2ms'; SET LOCAL vacuum_cost_limit = 200",
        )
        .await?;
    let statement = format!("ANALYZE {}", quoted(table));
    sqlx::query(&statement)
        .persistent(false)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

fn quoted(table: &str) -> String {
    format!("\"{}\"", table.replace('"', "\"\""))
}
