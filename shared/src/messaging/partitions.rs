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
//!
//! Going from one queue to partitions (P was 1), the old queue `Q` still holds what was
//! published before and is still bound: the instance of rank 0 unbinds it, so it stops filling,
//! and consumes it alongside its partitions until an operator deletes it (ARCHITECTURE.md,
//! "Scaling": changing P).

use super::{
    consumer::{Deliveries, QueueConsumer},
    membership::{Membership, LOOK_EVERY},
};
use lapin::{options::QueueDeclareOptions, types::FieldTable, Connection};
use std::collections::BTreeMap;

/// The key of the unpartitioned queue `Q` among the queues consumed (partitions are 0..P).
const LEGACY: u16 = u16::MAX;

/// Whether the unpartitioned queue `Q` of an earlier plan exists, as far as this connection knows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Legacy {
    Unknown,
    Absent,
    /// Unbound; consumed by the instance of rank 0 until deleted.
    Present,
}
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
    async fn serve(&self, connection: &std::sync::Arc<Connection>) {
        let shutdown = self.consumer.shutdown();
        let mut membership = Membership::new(self.consumer.logical());
        let mut legacy = Legacy::Unknown;
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
            if view.rank == 0 && legacy == Legacy::Unknown {
                legacy = self.retire_legacy(connection).await;
            }
            let drain_legacy = view.rank == 0 && legacy == Legacy::Present;
            let queues = self
                .partitions
                .iter()
                .enumerate()
                .map(|(index, queue)| (index as u16, queue.as_str(), view.owns(index as u16)))
                .chain([(LEGACY, self.consumer.logical(), drain_legacy)]);
            for (partition, queue, owned) in queues {
                match (owned, running.contains_key(&partition)) {
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

    /// Looks for the unpartitioned queue `Q` and, if it is there, unbinds it.
    async fn retire_legacy(&self, connection: &Connection) -> Legacy {
        let queue = self.consumer.logical();
        let Ok(channel) = connection.create_channel().await else {
            return Legacy::Unknown;
        };
        let passive = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        match channel
            .queue_declare(queue.into(), passive, FieldTable::default())
            .await
        {
            Ok(declared) => {
                let bindings = self
                    .consumer
                    .broker()
                    .topology()
                    .queue(queue)
                    .map(|spec| spec.bindings.clone())
                    .unwrap_or_default();
                for binding in bindings {
                    if let Err(error) = channel
                        .queue_unbind(
                            queue.into(),
                            binding.exchange.as_str().into(),
                            binding.routing_key.as_str().into(),
                            FieldTable::default(),
                        )
                        .await
                    {
                        tracing::warn!(queue, %error, "cannot unbind the unpartitioned queue");
                        return Legacy::Unknown;
                    }
                }
                tracing::warn!(
                    queue,
                    messages = declared.message_count(),
                    "the queue of before partitioning is unbound and drained; delete it (and its \
                     .retry queues) once empty"
                );
                let _ = channel.close(200, "unbound".into()).await;
                Legacy::Present
            }
            Err(_) => Legacy::Absent,
        }
    }
}
