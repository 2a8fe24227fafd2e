//! The answers to creates that carried an `Idempotency-Key`.

use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use std::time::Duration;

/// A stored answer, with the request it answered.
#[derive(Debug, sqlx::FromRow)]
pub struct StoredAnswer {
    pub request: Value,
    pub status: i16,
    pub response: Value,
}

pub async fn find(pool: &PgPool, key: &str) -> Result<Option<StoredAnswer>, sqlx::Error> {
    sqlx::query_as("SELECT request, status, response FROM idempotency_keys WHERE key = $1")
        .bind(key)
        .fetch_optional(pool)
        .await
}

/// Records the answer inside the command's transaction; `false` if another request with the
/// same key committed first (the insert waits for it), and then this one must roll back.
pub async fn record(
    conn: &mut PgConnection,
    key: &str,
    request: &Value,
    status: u16,
    response: &Value,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (key, request, status, response) VALUES ($1, $2, $3, $4)
         ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .bind(request)
    .bind(i16::try_from(status).unwrap_or(i16::MAX))
    .bind(response)
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Forgets answers older than `retention`; returns how many.
pub async fn delete_older_than(pool: &PgPool, retention: Duration) -> Result<u64, sqlx::Error> {
    let seconds = retention.as_secs_f64();
    let deleted = sqlx::query(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)",
    )
    .bind(seconds)
    .execute(pool)
    .await?;
    Ok(deleted.rows_affected())
}
