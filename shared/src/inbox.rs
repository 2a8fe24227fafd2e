//! The inbox: a consumer records each event id it has handled in the same transaction as the
//! effect, so a redelivered event is recognised and skipped (effectively-once effects).
//! The table (`processed_events (consumer, event_id)`, its primary key) is created by each
//! service's migration; [`require_table`] checks it at start-up.

use crate::postgres::{require_columns, SchemaError};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Checks that the service's migrations created the `processed_events` table this module uses.
pub async fn require_table(pool: &PgPool) -> Result<(), SchemaError> {
    require_columns(pool, "processed_events", &["consumer", "event_id"]).await
}

/// Records that `consumer` handles `event_id` now; `false` if it already had.
pub async fn first_time(
    tx: &mut PgConnection,
    consumer: &str,
    event_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(consumer)
    .bind(event_id)
    .execute(tx)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Records that `consumer` handles each of `event_ids` now, in one statement; returns those it
/// had not handled before (a batch's redelivered events are left out).
pub async fn first_times(
    tx: &mut PgConnection,
    consumer: &str,
    event_ids: &[Uuid],
) -> Result<std::collections::HashSet<Uuid>, sqlx::Error> {
    if event_ids.is_empty() {
        return Ok(Default::default());
    }
    let inserted: Vec<(Uuid,)> = sqlx::query_as(
        "INSERT INTO processed_events (consumer, event_id)
         SELECT $1, event_id FROM UNNEST($2::uuid[]) AS t(event_id)
         ON CONFLICT DO NOTHING
         RETURNING event_id",
    )
    .bind(consumer)
    .bind(event_ids)
    .fetch_all(tx)
    .await?;
    Ok(inserted.into_iter().map(|(id,)| id).collect())
}
