//! The loop of every polling worker (the outbox relay, complaint-service's projector,
//! notification-service's delivery worker): do a round of work, then wait until a NOTIFY, an
//! extra in-process wake-up or the time the round asked for, and stop when the service stops.
//! A round that fails is logged and tried again after a pause that grows with the failures in
//! a row. Leadership (advisory locks, `SKIP LOCKED`) is the worker's own business.

use super::Background;
use crate::postgres::Wakeups;
use sqlx::PgPool;
use std::{fmt::Display, future::Future, sync::Arc, time::Duration};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// One kind of background work done in rounds.
pub trait Worker: Send + 'static {
    type Error: Display + Send;

    /// Does what is due now and says when to look again.
    fn round(&mut self) -> impl Future<Output = Result<Round, Self::Error>> + Send;
}

/// When the next round runs, after a round that did not fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Round {
    /// More work is waiting: at once.
    Again,
    /// After this long at most, or sooner when woken (the safety-net poll, a retry coming due).
    WaitUpTo(Duration),
    /// After this long, whatever wakes in between (a circuit breaker that is open).
    Pause(Duration),
}

/// Runs a [`Worker`] in the background of a service, woken by the NOTIFY channel its writers
/// signal.
pub struct Poller {
    name: &'static str,
    pool: PgPool,
    channel_sql: &'static str,
    also_woken_by: Option<Arc<Notify>>,
    enabled: bool,
    gather: Duration,
}

impl Poller {
    /// `channel_sql` is the SQL expression naming the channel (see [`Wakeups`]); `name`
    /// appears in the logs.
    pub fn new(name: &'static str, pool: PgPool, channel_sql: &'static str) -> Self {
        Self {
            name,
            pool,
            channel_sql,
            also_woken_by: None,
            enabled: true,
            gather: Duration::ZERO,
        }
    }

    /// Once woken, waits `gather` more before the round, taking in every wake-up that comes
    /// meanwhile: writers that commit together are served by one round instead of one round
    /// each (a round costs a transaction of its own, whatever it finds).
    pub fn gathering(mut self, gather: Duration) -> Self {
        self.gather = gather;
        self
    }

    /// `false` (a setting, in tests that need the work left undone) starts nothing.
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// Also runs a round when `wake` is notified (work committed by this process).
    pub fn also_woken_by(mut self, wake: Arc<Notify>) -> Self {
        self.also_woken_by = Some(wake);
        self
    }

    /// Starts the loop; it stops when the service stops, after the round in hand.
    pub fn spawn<W: Worker>(self, worker: W, background: &Background) {
        if !self.enabled {
            tracing::warn!(worker = self.name, "disabled by configuration");
            return;
        }
        background
            .tracker
            .spawn(self.run(worker, background.shutdown.clone()));
    }

    async fn run<W: Worker>(self, mut worker: W, shutdown: CancellationToken) {
        let mut wakeups = Wakeups::listen(&self.pool, self.channel_sql).await;
        let extra = self.also_woken_by.unwrap_or_default();
        let mut failures = 0u32;
        while !shutdown.is_cancelled() {
            let round = worker.round().await;
            let (wait, wakes) = match round {
                Ok(Round::Again) => {
                    failures = 0;
                    continue;
                }
                Ok(Round::WaitUpTo(wait)) => {
                    failures = 0;
                    (wait, true)
                }
                Ok(Round::Pause(pause)) => (pause, false),
                Err(error) => {
                    failures += 1;
                    let pause = pause_after_failures(failures);
                    tracing::warn!(worker = self.name, %error, ?pause, "round failed; retrying");
                    (pause, false)
                }
            };
            if wakes {
                let woken = tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(wait) => false,
                    _ = wakeups.next() => true,
                    _ = extra.notified() => true,
                };
                if woken && !self.gather.is_zero() {
                    let gathered = tokio::time::sleep(self.gather);
                    tokio::pin!(gathered);
                    loop {
                        tokio::select! {
                            _ = shutdown.cancelled() => break,
                            _ = &mut gathered => break,
                            _ = wakeups.next() => {}
                            _ = extra.notified() => {}
                        }
                    }
                }
            } else {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        }
        tracing::info!(worker = self.name, "stopped");
    }
}

/// How long a worker pauses after `failures` failed rounds in a row: 200 ms more for each, at
/// most 5 s, so an unreachable database is neither hammered nor waited out for long. Wake-ups
/// do not cut the pause short.
pub fn pause_after_failures(failures: u32) -> Duration {
    Duration::from_millis(200 * u64::from(failures.min(25)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_after_failures_grows_then_stays_at_five_seconds() {
        let pauses: Vec<u64> = [1, 2, 10, 25, 26, 1000]
            .map(|n| pause_after_failures(n).as_millis() as u64)
            .to_vec();
        assert_eq!(pauses, [200, 400, 2000, 5000, 5000, 5000]);
    }
}
