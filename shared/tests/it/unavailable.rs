//! What a PostgreSQL restart does to a request in flight: the server terminates its connection
//! with 57P01, which must read as "unavailable" (503, try again), not as a failed query (500).

use shared::{postgres::is_unavailable, test_support};

#[tokio::test]
async fn a_connection_the_server_terminates_is_unavailability_and_a_bad_query_is_not() {
    let pool = shared::postgres::connect(&test_support::database())
        .await
        .unwrap();
    let mut doomed = pool.acquire().await.unwrap();
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *doomed)
        .await
        .unwrap();
    // What `pg_ctl restart` does to every backend: terminate it "due to administrator command".
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .execute(&pool)
        .await
        .unwrap();

    let terminated = sqlx::query("SELECT 1")
        .execute(&mut *doomed)
        .await
        .expect_err("the terminated connection still answered");
    assert!(is_unavailable(&terminated), "{terminated:?}");

    let refused = sqlx::query("SELECT * FROM no_such_table")
        .execute(&pool)
        .await
        .expect_err("a missing table was found");
    assert!(!is_unavailable(&refused), "{refused:?}");
}
