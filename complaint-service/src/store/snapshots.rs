//! The latest snapshot of each complaint (`complaint_snapshots`): the state at a version, as
//! `shared::complaint::snapshot` encodes it.

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

/// A stored snapshot, not yet checked against this code's state version.
#[derive(Debug, sqlx::FromRow)]
pub struct StoredSnapshot {
    pub version: i64,
    pub state_version: i32,
    pub state: Value,
}

/// The snapshot of complaint `id`, if one was taken.
pub async fn latest(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<StoredSnapshot>, sqlx::Error> {
    sqlx::query_as(
        "SELECT version, state_version, state FROM complaint_snapshots WHERE aggregate_id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Keeps `state` at `version` as the snapshot of `id`, unless the one kept already covers a
/// later version in the same state version.
pub async fn save(
    conn: &mut PgConnection,
    id: Uuid,
    version: i64,
    state_version: i32,
    state: &Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO complaint_snapshots (aggregate_id, version, state_version, state)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (aggregate_id) DO UPDATE
         SET version = EXCLUDED.version, state_version = EXCLUDED.state_version,
             state = EXCLUDED.state, taken_at = now()
         WHERE complaint_snapshots.version < EXCLUDED.version
            OR complaint_snapshots.state_version <> EXCLUDED.state_version",
    )
    .bind(id)
    .bind(version)
    .bind(state_version)
    .bind(state)
    .execute(conn)
    .await?;
    Ok(())
}
