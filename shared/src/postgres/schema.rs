//! Tables that shared code reads and writes but each service's migrations create (the outbox,
//! the inbox): checked at start-up, so a service whose migrations lack one fails with a
//! message naming it, not at its first event with an SQL error.

use sqlx::PgPool;

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error(
        "table {table} lacks the columns {missing:?} that shared code uses; one of the \
         service's migrations must create them (see ARCHITECTURE.md, \"Outbox and inbox\")"
    )]
    MissingColumns {
        table: &'static str,
        missing: Vec<&'static str>,
    },
    #[error("cannot read the columns of {table}: {source}")]
    Database {
        table: &'static str,
        source: sqlx::Error,
    },
}

/// Checks that `table` exists in the pool's schema with at least `columns`.
pub async fn require_columns(
    pool: &PgPool,
    table: &'static str,
    columns: &[&'static str],
) -> Result<(), SchemaError> {
    let present: Vec<String> = sqlx::query_scalar(
        "SELECT column_name::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1",
    )
    .bind(table)
    .fetch_all(pool)
    .await
    .map_err(|source| SchemaError::Database { table, source })?;
    let missing: Vec<&'static str> = columns
        .iter()
        .copied()
        .filter(|column| !present.iter().any(|p| p == column))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(SchemaError::MissingColumns { table, missing })
    }
}
