//! The answers to creates that carried an `Idempotency-Key`.

use serde_json::Value;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};
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

/// An answer to keep under its key.
#[derive(Debug, Clone)]
pub struct Answer {
    pub key: String,
    pub request: Value,
    pub status: u16,
    pub response: Value,
}

/// Records the answer inside the caller's transaction; `false` if another request with the
/// same key committed first (the insert waits for it). The transaction is then aborted: the
/// caller rolls it back.
pub async fn record(conn: &mut PgConnection, answer: &Answer) -> Result<bool, sqlx::Error> {
    let mut query = QueryBuilder::new("");
    push_insert(&mut query, [answer]);
    match query.build().execute(conn).await {
        Ok(_) => Ok(true),
        Err(error) if is_taken(&error) => Ok(false),
        Err(error) => Err(error),
    }
}

/// Pushes the `INSERT` of `answers`, for [`record`] or as a CTE of a larger statement (creates:
/// see `store::events::start`). A plain insert, so that in a statement of several writes a
/// key already taken fails them all ([`is_taken`]).
pub fn push_insert<'a>(
    query: &mut QueryBuilder<'_, Postgres>,
    answers: impl IntoIterator<Item = &'a Answer>,
) {
    let (mut keys, mut requests, mut statuses, mut responses) = (vec![], vec![], vec![], vec![]);
    for answer in answers {
        keys.push(answer.key.clone());
        requests.push(answer.request.clone());
        statuses.push(i16::try_from(answer.status).unwrap_or(i16::MAX));
        responses.push(answer.response.clone());
    }
    query
        .push(
            "INSERT INTO idempotency_keys (key, request, status, response)
             SELECT * FROM UNNEST(",
        )
        .push_bind(keys)
        .push("::text[], ")
        .push_bind(requests)
        .push("::jsonb[], ")
        .push_bind(statuses)
        .push("::smallint[], ")
        .push_bind(responses)
        .push("::jsonb[])");
}

/// The error of a statement that found its key taken.
pub fn is_taken(error: &sqlx::Error) -> bool {
    super::violates(error, "idempotency_keys_pkey")
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
