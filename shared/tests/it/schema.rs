//! The start-up check of the tables shared code needs but services' migrations create.

use shared::{postgres::SchemaError, test_support};

#[tokio::test]
async fn a_schema_without_the_outbox_fails_the_check_naming_what_is_missing() {
    let pool = shared::postgres::connect(&test_support::database())
        .await
        .expect("a fresh schema");

    let error = shared::outbox::require_table(&pool)
        .await
        .expect_err("no outbox yet");
    assert!(
        matches!(&error, SchemaError::MissingColumns { table: "outbox", missing } if missing.len() == 5),
        "{error}"
    );

    // A table of that name from something else is not the outbox either.
    sqlx::query("CREATE TABLE outbox (position BIGSERIAL PRIMARY KEY, body JSONB)")
        .execute(&pool)
        .await
        .unwrap();
    let error = shared::outbox::require_table(&pool).await.unwrap_err();
    assert_eq!(
        error.to_string().split(';').next(),
        Some(
            "table outbox lacks the columns [\"event_id\", \"envelope\", \"created_at\", \
             \"published_at\"] that shared code uses"
        )
    );
    pool.close().await;
}

#[tokio::test]
async fn the_tables_the_services_migrations_create_pass_the_check() {
    let pool = shared::postgres::connect(&test_support::database())
        .await
        .expect("a fresh schema");
    sqlx::raw_sql(
        "CREATE TABLE outbox (
             position     BIGSERIAL PRIMARY KEY,
             event_id     UUID NOT NULL UNIQUE,
             envelope     JSONB NOT NULL,
             created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
             published_at TIMESTAMPTZ
         );
         CREATE TABLE processed_events (
             consumer     TEXT NOT NULL,
             event_id     UUID NOT NULL,
             processed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
             PRIMARY KEY (consumer, event_id)
         );",
    )
    .execute(&pool)
    .await
    .unwrap();

    shared::outbox::require_table(&pool)
        .await
        .expect("the outbox");
    shared::inbox::require_table(&pool)
        .await
        .expect("the inbox");
    pool.close().await;
}
