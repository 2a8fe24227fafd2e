//! All the SQL of complaint-service, by side: the event store, snapshots and idempotency keys
//! (write side), the projector's tables and the queries over them (read side).

pub mod events;
pub mod group_commit;
pub mod idempotency;
pub mod projection;
pub mod shadow;
pub mod snapshots;
pub mod views;

/// Whether `error` is a violation of the named constraint.
fn violates(error: &sqlx::Error, constraint: &str) -> bool {
    error
        .as_database_error()
        .and_then(|e| e.constraint())
        .is_some_and(|c| c == constraint)
}
