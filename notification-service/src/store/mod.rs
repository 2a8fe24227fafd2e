//! All SQL of the service, one file per table: the agent directory, the complaint view and
//! the notifications (history and delivery queue). Functions take a connection (`&mut
//! PgConnection`) when they belong in the caller's transaction, a pool otherwise.

pub mod agents;
pub mod complaints;
pub mod notifications;

/// A stored value this build cannot read back (written by a newer version, or corrupted).
fn corrupt(error: impl std::error::Error + Send + Sync + 'static) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(error))
}
