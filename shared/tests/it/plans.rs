//! Plans are cached as PostgreSQL caches them; where autovacuum is off (this project's CI
//! machine) each service analyzes its own tables, so a generic plan made while a table was
//! nearly empty (a sequential scan) is made again once the table has grown. The effect is
//! measured by `make bench-pipeline` (sequential scans per table).

use shared::{lifecycle::Background, postgres, test_support};
use std::time::Duration;

#[tokio::test]
async fn where_autovacuum_is_off_the_schema_s_tables_are_analyzed() {
    let pool = postgres::connect(&test_support::database()).await.unwrap();
    sqlx::query("CREATE TABLE grown (id int PRIMARY KEY)")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO grown SELECT generate_series(1, 1000)")
        .execute(&pool)
        .await
        .unwrap();
    let autovacuum: bool = sqlx::query_scalar("SELECT current_setting('autovacuum')::boolean")
        .fetch_one(&pool)
        .await
        .unwrap();
    let rows_known = || async {
        sqlx::query_scalar::<_, f32>("SELECT reltuples FROM pg_class WHERE oid = 'grown'::regclass")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    assert!(rows_known().await < 1.0, "not analyzed yet");
    // The rule reads the activity statistics, which a backend reports within a second or so.
    let reported = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let changed: i64 = sqlx::query_scalar(
            "SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relid = 'grown'::regclass",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        if changed >= 1000 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < reported,
            "inserts never reported"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let background = Background::new();
    postgres::keep_statistics(pool.clone(), &background);
    if autovacuum {
        // PostgreSQL's own daemon keeps the statistics: the task ends without a word.
        background.tracker.close();
        tokio::time::timeout(Duration::from_secs(10), background.tracker.wait())
            .await
            .expect("the task ends at once where autovacuum runs");
    } else {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while rows_known().await < 1000.0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the table was not analyzed"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        background.shutdown.cancel();
        background.tracker.close();
        background.tracker.wait().await;
    }
}
