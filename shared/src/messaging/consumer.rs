//! The consumer loop every service uses.
//!
//! Deliveries are taken in batches of whatever is ready (up to `batch_size`), decoded (an
//! undecodable message goes straight to the DLQ), handed to the handler, and settled one by
//! one: success is acked; a transient failure is re-published to the delay queue of its next
//! backoff step and then acked; a permanent failure, or a transient one out of attempts, is
//! re-published to the DLQ with its reason and then acked. Re-publishing is confirmed before
//! the ack, so a crash in between duplicates a message at worst and never loses it.
//!
//! Most queues carry events ([`Handler`], decoded as [`Envelope`]); a queue of commands carries
//! messages of another shape, handed over with the AMQP properties a reply needs
//! ([`MessageHandler`], [`Received`]). Both run the same loop, retries and DLQ.
//!
//! On shutdown the loop stops taking deliveries, finishes and settles the batch in hand, and
//! returns; unacked prefetched messages go back to the queue when the channel closes.
//! When the connection is lost the loop waits for the supervisor's next one and resumes.
//!
//! A partitioned queue (the topology's `partitions` > 1) runs this loop once per partition this
//! instance owns; `partitions.rs` decides which, and retries go to the partition's own delay
//! queues while dead letters, metrics and `x-original-queue` name the logical queue.

use super::{
    broker::Broker,
    properties::{self, number, text},
    publisher::{Outgoing, Publisher},
    retry::NextStep,
    topology::{dlq_name, retry_queue_name},
};
use crate::event::{
    errors::{self, DeadLetterQueued, ErrorKind, ErrorReport, FailingMessage},
    exchanges, Envelope, EventType, Metadata,
};
use crate::http::correlation::CorrelationId;
use futures_util::{FutureExt, StreamExt};
use lapin::{
    message::Delivery,
    options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions},
    types::FieldTable,
    Channel, Consumer,
};
use serde::de::DeserializeOwned;
use std::{future::Future, sync::Arc, time::Instant};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

/// Why handling a message failed, which decides its fate.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Worth another try later (a database or a peer is down).
    #[error("transient: {0:#}")]
    Transient(anyhow::Error),
    /// Will never succeed (invalid content): dead-lettered at once.
    #[error("permanent: {0:#}")]
    Permanent(anyhow::Error),
}

/// What a service does with the events of one queue.
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, event: &Envelope) -> impl Future<Output = Result<(), HandlerError>> + Send;

    /// Handles several events at once (one result per event, in order). Override it to write a
    /// batch in one round trip; the default handles them one after the other.
    fn handle_batch(
        &self,
        events: &[Envelope],
    ) -> impl Future<Output = Vec<Result<(), HandlerError>>> + Send {
        async move {
            let mut results = Vec::with_capacity(events.len());
            for event in events {
                results.push(self.handle(event).await);
            }
            results
        }
    }
}

/// A message that is not an event (a command), decoded, with the AMQP properties of its
/// delivery that an answer needs.
#[derive(Debug, Clone)]
pub struct Received<M> {
    pub message: M,
    pub message_id: Option<String>,
    pub correlation_id: Option<String>,
    /// Where the sender wants the answer (request/reply).
    pub reply_to: Option<String>,
}

/// What a service does with the messages of a queue that carries something other than
/// events. A message that does not decode into `Message` is dead-lettered with the reason.
pub trait MessageHandler: Send + Sync + 'static {
    type Message: DeserializeOwned + Send + Sync + 'static;

    fn handle(
        &self,
        message: &Received<Self::Message>,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;
}

/// How the loop turns deliveries into calls of a handler: events, or other messages.
pub(super) trait Deliveries: Send + Sync + 'static {
    type Item: Send + Sync;

    /// The delivery's content, or why it cannot be handled (it is dead-lettered).
    fn decode(delivery: &Delivery) -> Result<Self::Item, String>;

    fn handle_batch(
        &self,
        items: &[Self::Item],
    ) -> impl Future<Output = Vec<Result<(), HandlerError>>> + Send;
}

struct Events<H>(H);

impl<H: Handler> Deliveries for Events<H> {
    type Item = Envelope;

    fn decode(delivery: &Delivery) -> Result<Envelope, String> {
        serde_json::from_slice(&delivery.data)
            .map_err(|error| format!("not an event envelope: {error}"))
    }

    fn handle_batch(
        &self,
        items: &[Envelope],
    ) -> impl Future<Output = Vec<Result<(), HandlerError>>> + Send {
        self.0.handle_batch(items)
    }
}

struct Messages<H>(H);

impl<H: MessageHandler> Deliveries for Messages<H> {
    type Item = Received<H::Message>;

    fn decode(delivery: &Delivery) -> Result<Self::Item, String> {
        let message = serde_json::from_slice(&delivery.data)
            .map_err(|error| format!("malformed message: {error}"))?;
        let properties = &delivery.properties;
        let text = |value: &Option<lapin::types::ShortString>| {
            value.as_ref().map(|v| v.as_str().to_owned())
        };
        Ok(Received {
            message,
            message_id: text(properties.message_id()),
            correlation_id: text(properties.correlation_id()),
            reply_to: text(properties.reply_to()),
        })
    }

    async fn handle_batch(&self, items: &[Self::Item]) -> Vec<Result<(), HandlerError>> {
        let mut results = Vec::with_capacity(items.len());
        for item in items {
            results.push(self.0.handle(item).await);
        }
        results
    }
}

impl Broker {
    /// Consumes `queue` (declared by this broker's topology) with `handler` until `shutdown`.
    pub fn spawn_consumer<H: Handler>(
        &self,
        queue: &str,
        handler: H,
        tracker: &TaskTracker,
        shutdown: CancellationToken,
    ) {
        self.spawn_queue_consumer(queue, Events(handler), tracker, shutdown);
    }

    /// Consumes `queue`, whose messages are not events, with `handler` until `shutdown`: the
    /// same loop, retries and DLQ as [`Broker::spawn_consumer`].
    pub fn spawn_message_consumer<H: MessageHandler>(
        &self,
        queue: &str,
        handler: H,
        tracker: &TaskTracker,
        shutdown: CancellationToken,
    ) {
        self.spawn_queue_consumer(queue, Messages(handler), tracker, shutdown);
    }

    fn spawn_queue_consumer<D: Deliveries>(
        &self,
        queue: &str,
        handler: D,
        tracker: &TaskTracker,
        shutdown: CancellationToken,
    ) {
        // Failure counters exist from the start at zero: an alert on `increase()` would miss
        // the first failure of a series that appears with it.
        for kind in ["undecodable", "rejected", "retries-exhausted"] {
            metrics::counter!("messages_dead_lettered_total", "queue" => queue.to_owned(), "kind" => kind)
                .increment(0);
        }
        errors::register_counters(&self.settings().service_name);
        let consumer = QueueConsumer {
            broker: self.clone(),
            publisher: self.publisher(),
            queue: queue.to_owned(),
            logical: queue.to_owned(),
            handler: Arc::new(handler),
            shutdown,
        };
        let partitions = self
            .topology()
            .queue(queue)
            .map(|spec| self.topology().consumed_queues(spec))
            .unwrap_or_default();
        if partitions.len() > 1 {
            tracker.spawn(super::partitions::Partitioned::new(consumer, partitions).run());
        } else {
            tracker.spawn(consumer.run());
        }
    }
}

/// Consumes one queue: a work queue, or one partition of it.
pub(super) struct QueueConsumer<H> {
    broker: Broker,
    publisher: Publisher,
    /// The queue subscribed to; its delay queues take its retries.
    queue: String,
    /// The work queue as the service names it: its DLQ, metrics and `x-original-queue`.
    logical: String,
    handler: Arc<H>,
    shutdown: CancellationToken,
}

/// The fate of one delivery.
enum Settlement {
    Ack,
    Retry { attempts: u32, reason: String },
    DeadLetter { kind: &'static str, reason: String },
}

impl<H> QueueConsumer<H> {
    pub(super) fn broker(&self) -> &Broker {
        &self.broker
    }

    pub(super) fn shutdown(&self) -> &CancellationToken {
        &self.shutdown
    }

    pub(super) fn logical(&self) -> &str {
        &self.logical
    }

    /// The same consumer on `queue` (a partition), stopped by `stop`.
    pub(super) fn on(&self, queue: &str, stop: CancellationToken) -> Self {
        Self {
            broker: self.broker.clone(),
            publisher: self.publisher.clone(),
            queue: queue.to_owned(),
            logical: self.logical.clone(),
            handler: self.handler.clone(),
            shutdown: stop,
        }
    }
}

impl<H: Deliveries> QueueConsumer<H> {
    async fn run(self) {
        while let Some(link) = self.broker.link(&self.shutdown).await {
            self.session(&link.connection).await;
            if self.shutdown.is_cancelled() {
                break;
            }
        }
        tracing::info!(queue = %self.queue, "consumer stopped");
    }

    /// Subscribes on `connection` and consumes until shutdown or until the delivery stream ends;
    /// then closes the channel, which returns prefetched, unhandled deliveries to the queue in
    /// their order (the batch in hand is settled first).
    pub(super) async fn session(&self, connection: &lapin::Connection) {
        match self.subscribe(connection).await {
            Ok((channel, deliveries)) => {
                self.consume(deliveries).await;
                let _ = channel.close(200, "consumer stopping".into()).await;
            }
            Err(error) => {
                tracing::warn!(queue = %self.queue, %error, "cannot subscribe; retrying");
                tokio::select! {
                    _ = self.shutdown.cancelled() => {}
                    _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                }
            }
        }
    }

    async fn subscribe(
        &self,
        connection: &lapin::Connection,
    ) -> lapin::Result<(Channel, Consumer)> {
        let channel = connection.create_channel().await?;
        channel
            .basic_qos(self.broker.settings().prefetch, BasicQosOptions::default())
            .await?;
        let tag = format!(
            "{}@{}",
            self.broker.settings().service_name,
            uuid::Uuid::new_v4()
        );
        let consumer = channel
            .basic_consume(
                self.queue.as_str().into(),
                tag.as_str().into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        Ok((channel, consumer))
    }

    /// Returns when shutdown fires or the delivery stream ends (lost connection, deleted queue).
    async fn consume(&self, mut deliveries: Consumer) {
        let batch_size = self.broker.settings().batch_size.max(1);
        let gather = self.broker.settings().batch_gather;
        loop {
            let first = tokio::select! {
                biased;
                _ = self.shutdown.cancelled() => return,
                next = deliveries.next() => next,
            };
            let Some(Ok(first)) = first else {
                tracing::warn!(queue = %self.queue, "delivery stream ended; resubscribing");
                return;
            };
            let mut batch = vec![first];
            let gathered = tokio::time::Instant::now() + gather;
            while batch.len() < batch_size {
                let next = match deliveries.next().now_or_never() {
                    Some(next) => next,
                    None if gather.is_zero() => break,
                    None => match tokio::time::timeout_at(gathered, deliveries.next()).await {
                        Ok(next) => next,
                        Err(_) => break,
                    },
                };
                match next {
                    Some(Ok(delivery)) => batch.push(delivery),
                    // An error (the channel broke) or the end: the batch in hand is handled
                    // first, and the loop's next read meets the end.
                    _ => break,
                }
            }
            if let Err(error) = self.process(batch).await {
                // The channel broke while settling: unacked messages come back, nothing is lost.
                tracing::warn!(queue = %self.queue, %error, "settling failed; resubscribing");
                return;
            }
        }
    }

    async fn process(&self, batch: Vec<Delivery>) -> Result<(), SettleError> {
        let started = Instant::now();
        let mut decoded = Vec::with_capacity(batch.len());
        let mut settlements: Vec<Option<Settlement>> = Vec::with_capacity(batch.len());
        for delivery in &batch {
            match H::decode(delivery) {
                Ok(item) => {
                    decoded.push(item);
                    settlements.push(None);
                }
                Err(reason) => settlements.push(Some(Settlement::DeadLetter {
                    kind: "undecodable",
                    reason,
                })),
            }
        }
        let mut results = self.handler.handle_batch(&decoded).await.into_iter();
        for (slot, delivery) in settlements.iter_mut().zip(&batch) {
            if slot.is_none() {
                let result = results.next().unwrap_or_else(|| {
                    Err(HandlerError::Transient(anyhow::anyhow!(
                        "the handler returned no result for this event"
                    )))
                });
                *slot = Some(self.settlement(delivery, result));
            }
        }
        metrics::histogram!("event_processing_duration_seconds", "queue" => self.logical.clone())
            .record(started.elapsed().as_secs_f64());
        for (settlement, delivery) in settlements.into_iter().zip(&batch) {
            let settlement = settlement.unwrap_or(Settlement::Ack);
            let outcome = self.divert(delivery, settlement).await?;
            metrics::counter!("messages_consumed_total", "queue" => self.logical.clone(), "outcome" => outcome)
                .increment(1);
        }
        // Every delivery of the batch is now settled (diverted copies are confirmed), and the
        // channel's earlier deliveries were settled before: one multiple-ack covers them all.
        if let Some(last) = batch.last() {
            last.acker.ack(BasicAckOptions { multiple: true }).await?;
        }
        Ok(())
    }

    fn settlement(&self, delivery: &Delivery, result: Result<(), HandlerError>) -> Settlement {
        match result {
            Ok(()) => Settlement::Ack,
            Err(HandlerError::Permanent(error)) => Settlement::DeadLetter {
                kind: "rejected",
                reason: format!("{error:#}"),
            },
            Err(HandlerError::Transient(error)) => Settlement::Retry {
                attempts: properties::retry_count(&delivery.properties) + 1,
                reason: format!("{error:#}"),
            },
        }
    }

    /// Sends a failed delivery where it goes next (a delay queue or the DLQ); says which.
    async fn divert(
        &self,
        delivery: &Delivery,
        settlement: Settlement,
    ) -> Result<&'static str, SettleError> {
        Ok(match settlement {
            Settlement::Ack => "ok",
            Settlement::Retry { attempts, reason } => {
                match self.broker.settings().retry.after_failure(attempts) {
                    NextStep::RetryAfter(delay) => {
                        tracing::warn!(queue = %self.queue, attempts, ?delay, %reason, "handler failed; retrying later");
                        let properties = properties::with_headers(
                            &delivery.properties,
                            [
                                (properties::RETRY_COUNT, number(i64::from(attempts))),
                                (properties::FAILURE_REASON, text(&reason)),
                            ],
                        );
                        self.republish(&retry_queue_name(&self.queue, delay), delivery, properties)
                            .await?;
                        "retried"
                    }
                    NextStep::DeadLetter => {
                        self.dead_letter(delivery, "retries-exhausted", &reason, attempts)
                            .await?;
                        "dead-lettered"
                    }
                }
            }
            Settlement::DeadLetter { kind, reason } => {
                let attempts = properties::retry_count(&delivery.properties) + 1;
                self.dead_letter(delivery, kind, &reason, attempts).await?;
                "dead-lettered"
            }
        })
    }

    async fn dead_letter(
        &self,
        delivery: &Delivery,
        kind: &'static str,
        reason: &str,
        attempts: u32,
    ) -> Result<(), SettleError> {
        tracing::error!(queue = %self.queue, kind, %reason, attempts, "dead-lettering a message");
        let properties = properties::with_headers(
            &delivery.properties,
            [
                (properties::RETRY_COUNT, number(i64::from(attempts))),
                (properties::FAILURE_KIND, text(kind)),
                (properties::FAILURE_REASON, text(reason)),
                (properties::ORIGINAL_QUEUE, text(&self.logical)),
                (
                    properties::ORIGINAL_EXCHANGE,
                    text(delivery.exchange.as_str()),
                ),
                (
                    properties::ORIGINAL_ROUTING_KEY,
                    text(delivery.routing_key.as_str()),
                ),
                (
                    properties::DEAD_LETTERED_AT,
                    text(&chrono::Utc::now().to_rfc3339()),
                ),
            ],
        );
        let dlq = dlq_name(&self.logical);
        self.republish(&dlq, delivery, properties).await?;
        metrics::counter!("messages_dead_lettered_total", "queue" => self.logical.clone(), "kind" => kind)
            .increment(1);
        self.announce_dead_letter(delivery, &dlq, kind, reason, attempts)
            .await;
        Ok(())
    }

    /// Raises ERROR_DEAD_LETTER_QUEUED so operators and the audit trail hear of it. Best effort:
    /// the message itself is already safe in the DLQ. Never raised for such an event itself, so a
    /// failing errors handler cannot feed on its own alarms.
    async fn announce_dead_letter(
        &self,
        delivery: &Delivery,
        dlq: &str,
        kind: &str,
        reason: &str,
        attempts: u32,
    ) {
        let original = serde_json::from_slice::<Envelope>(&delivery.data).ok();
        if original.as_ref().and_then(Envelope::known_type)
            == Some(EventType::ErrorDeadLetterQueued)
        {
            return;
        }
        let message_id = delivery
            .properties
            .message_id()
            .as_ref()
            .map(|id| id.as_str().to_owned());
        // A body that cannot be read may still have come with its request's id on the
        // message's properties (the publisher sets both): the alarm keeps it, so it can be
        // traced back to that request.
        let correlation_id = original
            .as_ref()
            .map(|e| e.metadata.correlation_id.clone())
            .or_else(|| {
                let property = delivery.properties.correlation_id().as_ref();
                property.map(|id| id.as_str().to_owned())
            })
            .unwrap_or_else(|| CorrelationId::generate().0);
        let service = &self.broker.settings().service_name;
        let mut metadata = Metadata::new(service, correlation_id.clone(), chrono::Utc::now());
        metadata.causation_id = original.as_ref().map(|e| e.event_id.to_string());
        let report = ErrorReport::new(
            ErrorKind::of_dead_letter(kind),
            service,
            FailingMessage {
                message_id,
                event_id: original.as_ref().map(|e| e.event_id.to_string()),
                event_type: original.as_ref().map(|e| e.event_type.clone()),
                aggregate_id: original.as_ref().map(|e| e.aggregate_id.clone()),
                correlation_id: Some(correlation_id),
            },
            DeadLetterQueued {
                queue: self.logical.clone(),
                dead_letter_queue: dlq.to_owned(),
                failure_kind: kind.to_owned(),
                reason: reason.to_owned(),
                attempts,
            },
        );
        // Each alarm is a stream of its own (one event, version 1): the event store keeps
        // (stream, version) unique, so alarms must not share a stream.
        let alarm = Envelope::new(
            EventType::ErrorDeadLetterQueued,
            uuid::Uuid::now_v7().to_string(),
            "DeadLetter".to_owned(),
            report.to_value(),
            metadata,
        );
        errors::count_raised(report.severity, report.kind, service);
        if let Err(error) = self.publisher.publish(&alarm).await {
            tracing::warn!(%error, exchange = exchanges::ERRORS, "could not raise ERROR_DEAD_LETTER_QUEUED");
        }
    }

    /// Copies the delivery to `queue` through the default exchange, confirmed.
    async fn republish(
        &self,
        queue: &str,
        delivery: &Delivery,
        properties: lapin::BasicProperties,
    ) -> Result<(), SettleError> {
        self.publisher
            .send(vec![Outgoing {
                exchange: "",
                routing_key: queue,
                payload: &delivery.data,
                properties,
            }])
            .await
            .map_err(SettleError::Publish)
    }
}

#[derive(Debug, thiserror::Error)]
enum SettleError {
    #[error("re-publishing failed: {0}")]
    Publish(super::publisher::PublishError),
    #[error("ack failed: {0}")]
    Ack(#[from] lapin::Error),
}
