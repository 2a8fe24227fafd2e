//! One supervised AMQP connection per process.
//!
//! lapin does not heal a lost connection by itself. The supervisor connects, declares the
//! topology, publishes the live connection to everyone who waits for one (publishers and
//! consumers), watches it, and on loss starts over with exponential backoff. Consumers and
//! publishers never hold on to a dead connection: they ask the broker for the current one.

use super::{settings::BrokerSettings, topology::Topology};
use futures_util::StreamExt;
use lapin::{types::LongString, Connection, ConnectionProperties, Event};
use std::{sync::Arc, time::Duration};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// A handle on the supervised connection; cheap to clone.
#[derive(Clone)]
pub struct Broker {
    inner: Arc<Inner>,
}

struct Inner {
    settings: BrokerSettings,
    topology: Topology,
    link: watch::Sender<Option<Link>>,
    stop: CancellationToken,
}

/// One live connection; `generation` changes on every reconnect so channels know when to renew.
#[derive(Clone)]
pub(crate) struct Link {
    pub generation: u64,
    pub connection: Arc<Connection>,
}

impl Broker {
    /// Starts supervising in the background. It does not wait for the broker: a service comes up
    /// without it and `/ready` says so until the first connection is made.
    pub fn start(settings: BrokerSettings, mut topology: Topology) -> Broker {
        topology.work_queue_type = settings.work_queue_type;
        topology.partitions = settings.partitions.max(1);
        if settings.connects_as_guest() {
            tracing::warn!(
                service = %settings.service_name,
                "connecting to RabbitMQ as guest, which may do everything: give the service its own \
                 user (scripts/rabbitmq_users.py, compose/rabbitmq/definitions.json)"
            );
        }
        let (link, _) = watch::channel(None);
        let inner = Arc::new(Inner {
            settings,
            topology,
            link,
            stop: CancellationToken::new(),
        });
        // Exists at zero from the start, so `increase()` sees the first loss.
        metrics::counter!("rabbitmq_connection_losses_total").increment(0);
        tokio::spawn(supervise(inner.clone()));
        Broker { inner }
    }

    pub fn settings(&self) -> &BrokerSettings {
        &self.inner.settings
    }

    pub fn topology(&self) -> &Topology {
        &self.inner.topology
    }

    /// Connected, with the topology declared.
    pub fn is_ready(&self) -> bool {
        self.inner
            .link
            .borrow()
            .as_ref()
            .is_some_and(|link| link.connection.status().connected())
    }

    /// Closed for good by [`Broker::close`].
    pub(crate) fn is_closed(&self) -> bool {
        self.inner.stop.is_cancelled()
    }

    /// Waits until ready or until `timeout`; tells which.
    pub async fn wait_ready(&self, timeout: Duration) -> bool {
        let cancel = CancellationToken::new();
        tokio::time::timeout(timeout, self.link(&cancel))
            .await
            .is_ok_and(|link| link.is_some())
    }

    /// The live connection, waiting for one if needed; `None` once `cancel` fires or the broker closes.
    pub(crate) async fn link(&self, cancel: &CancellationToken) -> Option<Link> {
        let mut rx = self.inner.link.subscribe();
        loop {
            if let Some(link) = rx.borrow_and_update().clone() {
                if link.connection.status().connected() {
                    return Some(link);
                }
            }
            tokio::select! {
                _ = cancel.cancelled() => return None,
                _ = self.inner.stop.cancelled() => return None,
                changed = rx.changed() => changed.ok()?,
            }
        }
    }

    /// Closes the connection for good. Call it after consumers have finished their work.
    pub async fn close(&self) {
        self.inner.stop.cancel();
        let link = self.inner.link.send_replace(None);
        if let Some(link) = link {
            let _ = link.connection.close(200, "service stopping".into()).await;
        }
    }
}

async fn supervise(inner: Arc<Inner>) {
    let mut generation = 0;
    let mut failures = 0u32;
    while !inner.stop.is_cancelled() {
        match connect(&inner).await {
            Ok(connection) => {
                failures = 0;
                generation += 1;
                let connection = Arc::new(connection);
                tracing::info!(generation, "connected to RabbitMQ, topology declared");
                inner.link.send_replace(Some(Link {
                    generation,
                    connection: connection.clone(),
                }));
                wait_until_lost(&connection, &inner.stop).await;
                if inner.stop.is_cancelled() {
                    break;
                }
                inner.link.send_replace(None);
                metrics::counter!("rabbitmq_connection_losses_total").increment(1);
                tracing::warn!(generation, "lost the RabbitMQ connection; reconnecting");
            }
            Err(error) => {
                failures += 1;
                let delay = reconnect_delay(failures, inner.settings.reconnect_max_delay);
                tracing::warn!(%error, attempt = failures, ?delay, "cannot connect to RabbitMQ");
                tokio::select! {
                    _ = inner.stop.cancelled() => break,
                    _ = tokio::time::sleep(delay) => {}
                }
            }
        }
    }
}

async fn connect(inner: &Inner) -> lapin::Result<Connection> {
    let properties = ConnectionProperties::default()
        .with_connection_name(LongString::from(inner.settings.service_name.as_str()));
    let connection = Connection::connect(&inner.settings.url, properties).await?;
    let channel = connection.create_channel().await?;
    let grant = super::permissions::grant(&inner.settings.service_name);
    inner.topology.declare_as(&channel, grant).await?;
    let _ = channel.close(200, "topology declared".into()).await;
    Ok(connection)
}

/// Returns when the connection reports an error or stops being connected, or on stop.
async fn wait_until_lost(connection: &Connection, stop: &CancellationToken) {
    let mut events = connection.events_listener();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            event = events.next() => match event {
                Some(Event::Error(error)) => {
                    tracing::warn!(%error, "RabbitMQ connection error");
                    return;
                }
                None => return,
                Some(_) => {}
            },
            _ = tick.tick() => {
                if !connection.status().connected() {
                    return;
                }
            }
        }
    }
}

/// 100 ms doubling up to `max`.
fn reconnect_delay(failures: u32, max: Duration) -> Duration {
    let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(16));
    Duration::from_millis(100).saturating_mul(factor).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnect_backoff_grows_and_is_capped() {
        let max = Duration::from_secs(10);
        assert_eq!(reconnect_delay(1, max), Duration::from_millis(100));
        assert_eq!(reconnect_delay(4, max), Duration::from_millis(800));
        assert_eq!(reconnect_delay(30, max), max);
    }
}
