//! The transactional outbox: a service's state change and the events it publishes commit in
//! one PostgreSQL transaction; a relay then publishes them to RabbitMQ, in order, with
//! publisher confirms, and deletes them (or marks them sent, to keep them for a retention) only
//! after the broker's confirm.
//!
//! The `outbox` table is created by each service's own migration:
//! `outbox (position BIGSERIAL PRIMARY KEY, event_id UUID UNIQUE, envelope JSONB,
//! created_at, published_at)` with a partial index on the unpublished rows; [`require_table`]
//! checks it at start-up.
//!
//! Several instances may run a relay: each batch is taken under a transaction-level advisory
//! lock, so exactly one relay publishes at a time (order is kept across instances) and a row is
//! never published by two relays at once. A relay killed between the broker's confirm and the
//! commit leaves its rows in place; they are published again, with the same eventId, which
//! consumers dedupe.

mod relay;

pub use relay::{Relay, RelaySettings};

use crate::{
    event::Envelope,
    postgres::{require_columns, SchemaError},
};
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};

/// The NOTIFY channel of the outbox in the current schema (one per schema, so services and
/// tests sharing a database never wake each other). A macro, so [`NOTIFY_SQL`] can be built
/// from it at compile time.
macro_rules! channel_sql {
    () => {
        "current_schema() || '_outbox'"
    };
}
const CHANNEL_SQL: &str = channel_sql!();

/// Checks that the service's migrations created the `outbox` this module and the relay use.
pub async fn require_table(pool: &PgPool) -> Result<(), SchemaError> {
    let columns = [
        "position",
        "event_id",
        "envelope",
        "created_at",
        "published_at",
    ];
    require_columns(pool, "outbox", &columns).await
}

/// The NOTIFY that wakes the relay, delivered on commit: for a statement that writes the
/// outbox through [`push_insert`].
pub const NOTIFY_SQL: &str = concat!("pg_notify(", channel_sql!(), ", '')");

/// Adds `events` to the outbox inside the caller's transaction; the relay is woken on commit.
pub async fn enqueue(tx: &mut PgConnection, events: &[Envelope]) -> Result<(), sqlx::Error> {
    if events.is_empty() {
        return Ok(());
    }
    // One statement: the insert, and the NOTIFY that PostgreSQL delivers on commit.
    let mut query = QueryBuilder::new("WITH queued AS (");
    push_insert(&mut query, events)?;
    query.push(format!(
        ") SELECT {NOTIFY_SQL}, (SELECT count(*) FROM queued)"
    ));
    query.build().execute(&mut *tx).await?;
    Ok(())
}

/// Pushes the `INSERT` of `events` into the outbox, in their order, `RETURNING 1` per row:
/// a data-modifying CTE for a statement that writes other tables too (a create writes its
/// events, its answer and their outbox rows in one statement). That statement selects
/// [`NOTIFY_SQL`] to wake the relay.
pub fn push_insert<'e>(
    query: &mut QueryBuilder<'_, Postgres>,
    events: impl IntoIterator<Item = &'e Envelope>,
) -> Result<(), sqlx::Error> {
    let mut ids: Vec<uuid::Uuid> = vec![];
    let mut bodies: Vec<serde_json::Value> = vec![];
    for event in events {
        ids.push(event.event_id);
        bodies.push(serde_json::to_value(event).map_err(|e| sqlx::Error::Encode(Box::new(e)))?);
    }
    query
        .push(
            "INSERT INTO outbox (event_id, envelope)
             SELECT event_id, envelope FROM UNNEST(",
        )
        .push_bind(ids)
        .push("::uuid[], ")
        .push_bind(bodies)
        .push(
            "::jsonb[]) WITH ORDINALITY AS t(event_id, envelope, n)
             ORDER BY n RETURNING 1",
        );
    Ok(())
}
