//! Every pool's connections plan each statement for its parameters, so a generic plan cached
//! while a table was nearly empty (a sequential scan) cannot outlive the table's growth where
//! no ANALYZE comes to invalidate it. The effect is measured by `make bench-pipeline`
//! (sequential scans per table); this pins the setting on every connection of a pool.

use shared::{postgres, test_support};

#[tokio::test]
async fn every_connection_of_a_pool_plans_each_statement_for_its_parameters() {
    let pool = postgres::connect(&test_support::database()).await.unwrap();
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut conn = pool.acquire().await.unwrap();
        let shown: String = sqlx::query_scalar("SHOW plan_cache_mode")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(shown, "force_custom_plan");
        held.push(conn);
    }
}
