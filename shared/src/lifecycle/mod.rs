//! Start and stop, the same way in every service: one cancellation token from the signal
//! handler; background tasks in a tracker; on shutdown the HTTP server drains, consumers
//! finish the message in hand, then connections close.

mod poller;

pub use poller::{Poller, Round, Worker};

use crate::messaging::Broker;
use std::time::Duration;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

/// How long background tasks get to finish after shutdown is asked for.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// A token cancelled on SIGINT or SIGTERM.
pub fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(term) => term,
                    Err(error) => {
                        tracing::error!(%error, "cannot listen for SIGTERM");
                        let _ = ctrl_c.await;
                        cancel.cancel();
                        return;
                    }
                };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutdown requested");
        cancel.cancel();
    });
    token
}

/// The background work of a service: consumers, relays, timers.
#[derive(Clone, Default)]
pub struct Background {
    pub tracker: TaskTracker,
    /// Cancelled when the service stops; every background loop selects on it.
    pub shutdown: CancellationToken,
}

impl Background {
    pub fn new() -> Self {
        Self::default()
    }

    /// Stops every task (they finish the work in hand), waits for them within the drain
    /// timeout, then closes the broker connection.
    pub async fn stop(&self, broker: &Broker) {
        self.shutdown.cancel();
        self.tracker.close();
        if tokio::time::timeout(DRAIN_TIMEOUT, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("background tasks did not finish within {DRAIN_TIMEOUT:?}");
        }
        broker.close().await;
    }
}
