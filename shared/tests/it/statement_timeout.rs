//! Every pool's connections carry `statement_timeout`: PostgreSQL cancels a statement that
//! runs longer, and the error is one callers treat as "unavailable" (503), not a bug.

use shared::{
    postgres::{self, DatabaseSettings},
    test_support,
};
use std::time::Duration;

#[tokio::test]
async fn a_statement_running_past_the_timeout_is_cancelled_as_unavailable() {
    let settings = DatabaseSettings {
        statement_timeout: Duration::from_millis(100),
        ..test_support::database()
    };
    let pool = postgres::connect(&settings).await.unwrap();
    let shown: String = sqlx::query_scalar("SHOW statement_timeout")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(shown, "100ms");
    let error = sqlx::query("SELECT pg_sleep(5)")
        .execute(&pool)
        .await
        .expect_err("cancelled at 100 ms");
    let code = error
        .as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.into_owned());
    assert_eq!(code.as_deref(), Some("57014"), "{error}");
    assert!(postgres::is_unavailable(&error));
    sqlx::query("SELECT pg_sleep(0.01)")
        .execute(&pool)
        .await
        .expect("a quick statement on the same pool");
    let bad_data = sqlx::query("SELECT 1/0").execute(&pool).await.unwrap_err();
    assert!(
        !postgres::is_unavailable(&bad_data),
        "a refusal is not an outage"
    );
    drop_schema(&pool, &settings.schema).await;
}

#[tokio::test]
async fn the_default_is_thirty_seconds_and_zero_means_none() {
    assert_eq!(
        DatabaseSettings::default().statement_timeout,
        Duration::from_secs(30)
    );
    let settings = DatabaseSettings {
        statement_timeout: Duration::ZERO,
        ..test_support::database()
    };
    let pool = postgres::connect(&settings).await.unwrap();
    let shown: String = sqlx::query_scalar("SHOW statement_timeout")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(shown, "0");
    drop_schema(&pool, &settings.schema).await;
}

async fn drop_schema(pool: &sqlx::PgPool, schema: &str) {
    sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .execute(pool)
        .await
        .unwrap();
}
