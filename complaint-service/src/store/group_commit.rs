//! Group commit of creates. Creates that arrive while earlier ones are being written wait
//! for a writer, which takes every create then waiting into one statement
//! ([`events::start`]): one round trip, one commit and one wake-up of the relay and the
//! projectors for all of them. Alone, a create is written at once, as before; under load the
//! statements grow instead of queueing up on the pool, and each create costs PostgreSQL less
//! (one statement to parse, plan and commit per group, not per create).
//!
//! A statement is all or nothing. When it fails on a unique index (a key or a stream taken)
//! nothing was written, and each of its creates is written again alone, so only the create
//! that conflicted learns of the conflict.

use sqlx::PgPool;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Mutex};

use super::events::{self, NewStream, Started};

/// How many statements may be written at once: while one is with PostgreSQL, the next group
/// gathers and goes as soon as a writer is free.
const WRITERS: usize = 2;
/// The most creates in one statement.
const MOST_PER_STATEMENT: usize = 64;
/// How many creates may wait for a writer; more wait to join the queue.
const QUEUE: usize = 1024;

/// The queue of creates waiting for a writer. Cloning shares it; its writers stop when the
/// last clone is dropped.
#[derive(Clone)]
pub struct GroupCommit {
    queue: mpsc::Sender<Waiting>,
}

struct Waiting {
    stream: NewStream,
    started: Waiter,
}

/// Where a create waits for what became of it.
type Waiter = oneshot::Sender<Result<Started, sqlx::Error>>;

impl GroupCommit {
    /// Spawns the writers on the current runtime.
    pub fn spawn(pool: PgPool) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE);
        let waiting = Arc::new(Mutex::new(waiting));
        for _ in 0..WRITERS {
            tokio::spawn(write(pool.clone(), waiting.clone()));
        }
        Self { queue }
    }

    /// Starts `stream` in the next statement a writer sends; what became of it.
    pub async fn start(&self, stream: NewStream) -> Result<Started, sqlx::Error> {
        let (started, outcome) = oneshot::channel();
        let gone = || sqlx::Error::PoolClosed;
        self.queue
            .send(Waiting { stream, started })
            .await
            .map_err(|_| gone())?;
        outcome.await.map_err(|_| gone())?
    }
}

/// A writer: takes the creates waiting (at least one), writes them, tells each what became
/// of it; until the queue is closed.
async fn write(pool: PgPool, waiting: Arc<Mutex<mpsc::Receiver<Waiting>>>) {
    loop {
        let mut group = Vec::new();
        {
            let mut waiting = waiting.lock().await;
            if waiting.recv_many(&mut group, MOST_PER_STATEMENT).await == 0 {
                return;
            }
        }
        commit(&pool, group).await;
    }
}

async fn commit(pool: &PgPool, group: Vec<Waiting>) {
    let (streams, waiters): (Vec<_>, Vec<_>) =
        group.into_iter().map(|w| (w.stream, w.started)).unzip();
    let outcome = events::start(pool, &streams).await;
    // The server refused the statement, so nothing was written: each create again on its
    // own, and only those at fault fail.
    let refused = matches!(
        outcome,
        Ok(Started::KeyTaken | Started::VersionTaken) | Err(sqlx::Error::Database(_))
    );
    if refused && streams.len() > 1 {
        return retry_alone(pool, &streams, waiters).await;
    }
    match outcome {
        Ok(started) => {
            for waiter in waiters {
                let _ = waiter.send(Ok(started));
            }
        }
        Err(error) => {
            let mut waiters = waiters.into_iter();
            if let Some(first) = waiters.next() {
                for waiter in waiters {
                    let _ = waiter.send(Err(copy_of(&error)));
                }
                let _ = first.send(Err(error));
            }
        }
    }
}

async fn retry_alone(pool: &PgPool, streams: &[NewStream], waiters: Vec<Waiter>) {
    for (stream, waiter) in streams.iter().zip(waiters) {
        let _ = waiter.send(events::start(pool, std::slice::from_ref(stream)).await);
    }
}

/// The same failure for another create of the group: unavailability stays unavailability
/// (a 503 to the caller), anything else is an internal error.
fn copy_of(error: &sqlx::Error) -> sqlx::Error {
    let message = error.to_string();
    if shared::postgres::is_unavailable(error) {
        sqlx::Error::Io(std::io::Error::other(message))
    } else {
        sqlx::Error::Protocol(message)
    }
}

#[cfg(test)]
mod tests {
    use super::copy_of;
    use shared::postgres::is_unavailable;

    #[test]
    fn the_others_of_a_group_get_the_same_kind_of_failure() {
        let broken = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        for unavailable in [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::Io(broken),
        ] {
            let copy = copy_of(&unavailable);
            assert!(is_unavailable(&copy), "{unavailable} stays unavailability");
            assert!(copy.to_string().contains(&unavailable.to_string()));
        }
        let bug = sqlx::Error::ColumnNotFound("answer".into());
        let copy = copy_of(&bug);
        assert!(!is_unavailable(&copy), "{bug} stays an internal error");
        assert!(copy.to_string().contains("answer"));
    }
}
