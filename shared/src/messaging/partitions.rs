//! Consuming a partitioned work queue with however many instances run.
//!
//! Every few seconds each instance looks at the membership (`membership.rs`: its rank among N
//! live instances) and consumes exactly the partitions its rank owns: it subscribes to the ones
//! it gained and stops the ones it lost. Stopping a partition settles the batch in hand (handled
//! and acked) and then closes the partition's channel, which gives the prefetched, unhandled
//! deliveries back to the queue in their order; only then does RabbitMQ hand the partition to the
//! next consumer, since every partition is a single-active-consumer queue. A newcomer that
//! subscribes before the old owner has let go just waits: two active consumers on one partition
//! never happen, even while two instances disagree about the membership. An instance that dies
//! loses its slot and its consumers with its connection, and the survivors take its partitions
//! at their next look.

use super::{
    consumer::{Deliveries, QueueConsumer},
    membership::{Membership, LOOK_EVERY},
};
use std::collections::BTreeMap;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub(super) struct Partitioned<H> {
    consumer: QueueConsumer<H>,
    partitions: Vec<String>,
}

/// A partition being consumed by this instance.
struct Running {
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl<H: Deliveries> Partitioned<H> {
    pub(super) fn new(consumer: QueueConsumer<H>, partitions: Vec<String>) -> Self {
        Self {
            consumer,
            partitions,
        }
    }

    pub(super) async fn run(self) {
        let shutdown = self.consumer.shutdown().clone();
        while let Some(link) = self.consumer.broker().link(&shutdown).await {
            self.serve(&link.connection).await;
            if shutdown.is_cancelled() {
                break;
            }
        }
        tracing::info!(queue = %self.consumer.logical(), "partitioned consumer stopped");
    }

    /// Keeps this instance's share consumed on `connection` until shutdown or until the
    /// connection is lost; then stops every partition it consumes.
    async fn serve(&self, connection: &std::sync::Arc<lapin::Connection>) {
        let shutdown = self.consumer.shutdown();
        let mut membership = Membership::new(self.consumer.logical());
        let mut running: BTreeMap<u16, Running> = BTreeMap::new();
        let mut look = tokio::time::interval(LOOK_EVERY);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = look.tick() => {}
            }
            if !connection.status().connected() {
                break;
            }
            let view = match membership.look(connection).await {
                Ok(view) => view,
                Err(error) => {
                    tracing::warn!(queue = %self.consumer.logical(), %error, "cannot read the membership; keeping the partitions held");
                    continue;
                }
            };
            // A partition whose delivery stream ended (its channel failed) is started again.
            running.retain(|_, partition| !partition.task.is_finished());
            for (index, queue) in self.partitions.iter().enumerate() {
                let partition = index as u16;
                match (view.owns(partition), running.contains_key(&partition)) {
                    (true, false) => {
                        let stop = shutdown.child_token();
                        let consumer = self.consumer.on(queue, stop.clone());
                        let connection = connection.clone();
                        let task = tokio::spawn(async move { consumer.session(&connection).await });
                        running.insert(partition, Running { stop, task });
                    }
                    (false, true) => {
                        if let Some(partition) = running.remove(&partition) {
                            partition.stop.cancel();
                            let _ = partition.task.await;
                        }
                    }
                    _ => {}
                }
            }
            let held: Vec<&u16> = running.keys().collect();
            tracing::debug!(queue = %self.consumer.logical(), rank = view.rank, members = view.members, ?held, "partitions");
        }
        for (_, partition) in running {
            partition.stop.cancel();
            let _ = partition.task.await;
        }
    }
}
