//! Where autovacuum is off (this project's CI machine) each service does its work on its own
//! tables: it analyzes them, so a generic plan made while a table was nearly empty (a
//! sequential scan) is made again once the table has grown, and it vacuums them, so the rows
//! its updates leave dead do not pile up. Where autovacuum runs, the task ends at once. The
//! effect is measured by `make bench-pipeline` (sequential scans per table).

use shared::{lifecycle::Background, postgres, test_support};
use sqlx::{Connection, PgConnection, PgPool};
use std::time::Duration;

#[tokio::test]
async fn where_autovacuum_is_off_the_schema_s_tables_are_analyzed() {
    let pool = table_of_1000_rows().await;
    assert!(rows_known(&pool, "grown").await < 1.0, "not analyzed yet");
    reported(&pool, "n_mod_since_analyze", 1000).await;

    let analyzed = || async { rows_known(&pool, "grown").await >= 1000.0 };
    keep_tables_until(&pool, analyzed).await;
}

#[tokio::test]
async fn a_table_that_outgrows_its_statistics_is_analyzed_between_rounds() {
    // A fresh store: `young` is empty when the service starts; `grown` shows when the
    // service's first round is done (it analyzes it).
    let pool = table_of_1000_rows().await;
    run(&pool, "CREATE TABLE young (id int PRIMARY KEY)").await;
    if autovacuum_on(&pool).await {
        keep_tables_until(&pool, || async { true }).await;
        return;
    }
    reported(&pool, "n_mod_since_analyze", 1000).await;
    let background = Background::new();
    postgres::keep_tables(pool.clone(), &background);
    let first_round_done = || async { rows_known(&pool, "grown").await >= 1000.0 };
    wait_for(&first_round_done, "the first round").await;

    // The load starts: the plans made now see an empty table. The next round is 30 s away;
    // the table is analyzed (and those plans made again) well before.
    run(&pool, "INSERT INTO young SELECT generate_series(1, 5000)").await;
    let analyzed = || async { rows_known(&pool, "young").await >= 5000.0 };
    wait_for(&analyzed, "the ANALYZE of the outgrown table").await;
    stop(background).await;
}

#[tokio::test]
async fn where_autovacuum_is_off_the_rows_updates_leave_dead_are_vacuumed() {
    let pool = table_with_1000_dead_rows().await;

    let dead = || async { counter(&pool, "n_dead_tup").await };
    if keep_tables_until(&pool, || async { dead().await == 0 }).await {
        let vacuumed: bool = sqlx::query_scalar(
            "SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables WHERE relid = 'grown'::regclass",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert!(vacuumed, "the dead rows went, but not by a VACUUM");
    }
}

#[tokio::test]
async fn a_service_vacuums_only_while_no_other_does() {
    let pool = table_with_1000_dead_rows().await;
    if autovacuum_on(&pool).await {
        // PostgreSQL's own daemon shares its pace among its workers; the task ends at once.
        keep_tables_until(&pool, || async { true }).await;
        return;
    }
    // Another service's pass holds the database's vacuum turn.
    let mut other = PgConnection::connect(&test_support::database().url)
        .await
        .unwrap();
    sqlx::query(VACUUM_TURN).execute(&mut other).await.unwrap();

    let background = Background::new();
    postgres::keep_tables(pool.clone(), &background);
    // The round ran (it analyzed the table), but it did not vacuum while the turn was taken.
    let analyzed = || async { counter(&pool, "n_mod_since_analyze").await == 0 };
    wait_for(&analyzed, "the round's ANALYZE").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        counter(&pool, "n_dead_tup").await >= 1000,
        "vacuumed while another service held the vacuum turn"
    );

    other.close().await.unwrap();
    let vacuumed = || async { counter(&pool, "n_dead_tup").await == 0 };
    wait_for(&vacuumed, "the VACUUM once the turn was free").await;
    stop(background).await;
}

/// What another service's vacuum holds while it runs (see `shared::postgres::upkeep`).
const VACUUM_TURN: &str = "SELECT pg_advisory_lock(hashtext('shared::postgres::upkeep vacuum'))";

async fn wait_for<F, Fut>(done: &F, what: &str)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !done().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not come within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `grown` (below) after an update of every row: 1,000 dead rows, reported.
async fn table_with_1000_dead_rows() -> PgPool {
    let pool = table_of_1000_rows().await;
    run(
        &pool,
        "ALTER TABLE grown ADD COLUMN seen boolean NOT NULL DEFAULT false",
    )
    .await;
    run(&pool, "UPDATE grown SET seen = true").await;
    reported(&pool, "n_dead_tup", 1000).await;
    pool
}

/// A fresh schema holding `grown`: 1,000 rows, never analyzed nor vacuumed.
async fn table_of_1000_rows() -> PgPool {
    let pool = postgres::connect(&test_support::database()).await.unwrap();
    run(&pool, "CREATE TABLE grown (id int PRIMARY KEY)").await;
    run(&pool, "INSERT INTO grown SELECT generate_series(1, 1000)").await;
    pool
}

async fn run(pool: &PgPool, statement: &str) {
    sqlx::query(statement).execute(pool).await.unwrap();
}

/// How many rows the statistics of `table` know (-1 before its first ANALYZE or VACUUM).
async fn rows_known(pool: &PgPool, table: &str) -> f32 {
    sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE oid = $1::regclass")
        .bind(table)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn counter(pool: &PgPool, column: &str) -> i64 {
    let statement =
        format!("SELECT {column} FROM pg_stat_user_tables WHERE relid = 'grown'::regclass");
    sqlx::query_scalar(&statement)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// The rules read the activity statistics, which a backend reports within a second or so.
async fn reported(pool: &PgPool, column: &str, at_least: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while counter(pool, column).await < at_least {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{column} never reached {at_least}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn autovacuum_on(pool: &PgPool) -> bool {
    sqlx::query_scalar("SELECT current_setting('autovacuum')::boolean")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Starts the upkeep and waits for `done` where autovacuum is off (and says so); where it
/// runs, checks that the task ends without a word (PostgreSQL's own daemon does the work, when
/// it likes).
async fn keep_tables_until<F, Fut>(pool: &PgPool, done: F) -> bool
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let background = Background::new();
    postgres::keep_tables(pool.clone(), &background);
    if autovacuum_on(pool).await {
        background.tracker.close();
        tokio::time::timeout(Duration::from_secs(10), background.tracker.wait())
            .await
            .expect("the task ends at once where autovacuum runs");
        return false;
    }
    wait_for(&done, "the upkeep's work").await;
    stop(background).await;
    true
}

async fn stop(background: Background) {
    background.shutdown.cancel();
    background.tracker.close();
    background.tracker.wait().await;
}
