//! What operators do with dead letters: look at them (with the reason they failed) and
//! re-drive one or all of them back to the queue they came from.
//!
//! Looking uses `basic.get` without acking and then closes the channel, which returns every
//! message to the DLQ untouched. Re-driving publishes a fresh copy (retry count reset) to the
//! work queue, confirmed, and only then acks it off the DLQ.

use super::{
    broker::Broker,
    properties::{self, number, text},
    publisher::Outgoing,
    topology::dlq_name,
};
use lapin::{
    message::BasicGetMessage,
    options::{BasicAckOptions, BasicGetOptions, QueueDeclareOptions},
    types::FieldTable,
    Channel,
};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

/// The most messages one look returns.
pub const MAX_PEEK: usize = 500;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    pub message_id: Option<String>,
    pub event_type: Option<String>,
    pub correlation_id: Option<String>,
    /// `undecodable`, `rejected` or `retries-exhausted`; absent if the broker dead-lettered it.
    pub failure_kind: Option<String>,
    pub reason: Option<String>,
    pub attempts: u32,
    pub original_queue: Option<String>,
    pub dead_lettered_at: Option<String>,
    /// The message body: JSON when it is JSON, otherwise the text as received.
    pub body: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterQueue {
    pub queue: String,
    pub dead_letter_queue: String,
    pub messages: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum DeadLetterError {
    #[error("queue {0:?} is not one of this service's queues")]
    UnknownQueue(String),
    #[error("RabbitMQ is unavailable: {0}")]
    Unavailable(String),
}

impl From<lapin::Error> for DeadLetterError {
    fn from(error: lapin::Error) -> Self {
        DeadLetterError::Unavailable(error.to_string())
    }
}

impl Broker {
    /// Every work queue of this service with the number of messages in its DLQ.
    pub async fn dead_letter_queues(&self) -> Result<Vec<DeadLetterQueue>, DeadLetterError> {
        let channel = self.operator_channel().await?;
        let mut queues = Vec::new();
        for spec in &self.topology().queues {
            let dlq = dlq_name(&spec.name);
            let messages = message_count(&channel, &dlq).await?;
            queues.push(DeadLetterQueue {
                queue: spec.name.clone(),
                dead_letter_queue: dlq,
                messages,
            });
        }
        let _ = channel.close(200, "done".into()).await;
        Ok(queues)
    }

    /// Up to `limit` messages of `queue`'s DLQ, oldest first, left in place.
    pub async fn peek_dead_letters(
        &self,
        queue: &str,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, DeadLetterError> {
        let dlq = self.known_dlq(queue)?;
        let channel = self.operator_channel().await?;
        let mut letters = Vec::new();
        while letters.len() < limit.min(MAX_PEEK) {
            match get(&channel, &dlq).await? {
                Some(message) => letters.push(describe(&message)),
                None => break,
            }
        }
        // Closing without acks puts every message back.
        let _ = channel.close(200, "peeked".into()).await;
        Ok(letters)
    }

    /// Moves dead letters back to `queue`: the one with `message_id`, or all of them.
    /// Returns how many were moved.
    pub async fn redrive_dead_letters(
        &self,
        queue: &str,
        message_id: Option<&str>,
    ) -> Result<usize, DeadLetterError> {
        let dlq = self.known_dlq(queue)?;
        let entry = self
            .topology()
            .queue(queue)
            .map(|spec| self.topology().entry(spec))
            .ok_or_else(|| DeadLetterError::UnknownQueue(queue.to_owned()))?;
        let channel = self.operator_channel().await?;
        let publisher = self.publisher();
        let waiting = message_count(&channel, &dlq).await?;
        let mut moved = 0;
        for _ in 0..waiting {
            let Some(message) = get(&channel, &dlq).await? else {
                break;
            };
            let id = message.delivery.properties.message_id().as_ref();
            if message_id.is_some_and(|wanted| id.map(|i| i.as_str()) != Some(wanted)) {
                continue; // not acked: returns to the DLQ when the channel closes
            }
            let props = properties::with_headers(
                &message.delivery.properties,
                [
                    (properties::RETRY_COUNT, number(0)),
                    ("x-redriven-at", text(&chrono::Utc::now().to_rfc3339())),
                ],
            );
            publisher
                .send(vec![Outgoing {
                    exchange: &entry.exchange,
                    routing_key: &entry.routing_key,
                    payload: &message.delivery.data,
                    properties: props,
                }])
                .await
                .map_err(|e| DeadLetterError::Unavailable(e.to_string()))?;
            message
                .delivery
                .acker
                .ack(BasicAckOptions::default())
                .await?;
            moved += 1;
            if message_id.is_some() {
                break;
            }
        }
        let _ = channel.close(200, "redriven".into()).await;
        metrics::counter!("dead_letters_redriven_total", "queue" => queue.to_owned())
            .increment(moved as u64);
        Ok(moved)
    }

    fn known_dlq(&self, queue: &str) -> Result<String, DeadLetterError> {
        self.topology()
            .queue(queue)
            .map(|spec| spec.dlq())
            .ok_or_else(|| DeadLetterError::UnknownQueue(queue.to_owned()))
    }

    pub(super) async fn operator_channel(&self) -> Result<Channel, DeadLetterError> {
        let link = tokio::time::timeout(
            self.settings().publish_timeout,
            self.link(&CancellationToken::new()),
        )
        .await
        .ok()
        .flatten()
        .ok_or_else(|| DeadLetterError::Unavailable("not connected".into()))?;
        Ok(link.connection.create_channel().await?)
    }
}

pub(super) async fn message_count(channel: &Channel, queue: &str) -> Result<u32, DeadLetterError> {
    let declared = channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await?;
    Ok(declared.message_count())
}

async fn get(channel: &Channel, queue: &str) -> Result<Option<BasicGetMessage>, DeadLetterError> {
    Ok(channel
        .basic_get(queue.into(), BasicGetOptions { no_ack: false })
        .await?)
}

fn describe(message: &BasicGetMessage) -> DeadLetter {
    let props = &message.delivery.properties;
    let body = serde_json::from_slice(&message.delivery.data).unwrap_or_else(|_| {
        serde_json::Value::String(String::from_utf8_lossy(&message.delivery.data).into_owned())
    });
    DeadLetter {
        message_id: props.message_id().as_ref().map(|s| s.as_str().to_owned()),
        event_type: props.kind().as_ref().map(|s| s.as_str().to_owned()),
        correlation_id: props
            .correlation_id()
            .as_ref()
            .map(|s| s.as_str().to_owned()),
        failure_kind: properties::header_str(props, properties::FAILURE_KIND),
        reason: properties::header_str(props, properties::FAILURE_REASON),
        attempts: properties::retry_count(props),
        original_queue: properties::header_str(props, properties::ORIGINAL_QUEUE),
        dead_lettered_at: properties::header_str(props, properties::DEAD_LETTERED_AT),
        body,
    }
}
