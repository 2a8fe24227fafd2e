//! Publishing with publisher confirms: a publish returns only once the broker has taken
//! responsibility for the message. A nack, an unroutable return or a timeout is an error the
//! caller sees, so an outbox row is marked sent only when it really is.

use super::{broker::Broker, properties};
use crate::event::Envelope;
use futures_util::future::try_join_all;
use lapin::{
    options::{BasicPublishOptions, ConfirmSelectOptions},
    protocol::AMQPErrorKind,
    BasicProperties, Channel, Confirmation, PublisherConfirm,
};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("RabbitMQ is unavailable: {0}")]
    Unavailable(String),
    #[error("the broker refused the message (nack)")]
    Nacked,
    /// A channel-level error, such as a missing exchange: the same answer every time.
    #[error("the broker refused the publish: {0}")]
    Refused(String),
    #[error("no queue is bound for exchange {exchange:?} and routing key {routing_key:?}")]
    Unroutable {
        exchange: String,
        routing_key: String,
    },
    #[error("no confirm from the broker within the publish timeout")]
    Timeout,
    #[error("event type {0} belongs to no exchange of the catalogue")]
    UnknownEventType(String),
    #[error("cannot encode the event: {0}")]
    Encode(#[from] serde_json::Error),
}

/// The pause before sending again after the connection failed under a publish, while the
/// supervisor reconnects (the next attempt also waits for a live connection).
const RESEND_PAUSE: Duration = Duration::from_millis(50);

/// Publishes on one confirm channel, renewed after a reconnect; cheap to clone.
#[derive(Clone)]
pub struct Publisher {
    broker: Broker,
    channel: Arc<Mutex<Option<(u64, Channel)>>>,
}

/// A message ready to go out.
pub struct Outgoing<'a> {
    pub exchange: &'a str,
    pub routing_key: &'a str,
    pub payload: &'a [u8],
    pub properties: BasicProperties,
}

impl Broker {
    pub fn publisher(&self) -> Publisher {
        Publisher {
            broker: self.clone(),
            channel: Arc::new(Mutex::new(None)),
        }
    }
}

impl Publisher {
    /// Publishes an event to its exchange of the catalogue, routed by its type.
    pub async fn publish(&self, envelope: &Envelope) -> Result<(), PublishError> {
        self.publish_all(std::slice::from_ref(envelope)).await
    }

    /// Publishes events in order, pipelined: all are sent, then all confirms awaited. On error
    /// some may have been delivered; publishing them again is safe, consumers dedupe on eventId.
    pub async fn publish_all(&self, envelopes: &[Envelope]) -> Result<(), PublishError> {
        let mut encoded = Vec::with_capacity(envelopes.len());
        for envelope in envelopes {
            let exchange = envelope
                .exchange()
                .ok_or_else(|| PublishError::UnknownEventType(envelope.event_type.clone()))?;
            encoded.push((
                exchange,
                envelope.routing_key(),
                serde_json::to_vec(envelope)?,
                properties::for_envelope(envelope),
            ));
        }
        let outgoing: Vec<Outgoing<'_>> = encoded
            .iter()
            .map(|(exchange, routing_key, payload, properties)| Outgoing {
                exchange,
                routing_key,
                payload,
                properties: properties.clone(),
            })
            .collect();
        let started = Instant::now();
        let result = self.send(outgoing).await;
        for (exchange, _, _, props) in &encoded {
            let event_type = props.kind().as_ref().map_or("", |t| t.as_str()).to_owned();
            let outcome = if result.is_ok() { "ok" } else { "error" };
            metrics::counter!("events_published_total", "exchange" => *exchange, "event_type" => event_type, "outcome" => outcome)
                .increment(1);
        }
        metrics::histogram!("event_publishing_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        result
    }

    /// Publishes an event to a given exchange and routing key (replays, tests).
    pub async fn publish_to(
        &self,
        exchange: &str,
        routing_key: &str,
        envelope: &Envelope,
        properties: BasicProperties,
    ) -> Result<(), PublishError> {
        let payload = serde_json::to_vec(envelope)?;
        self.send(vec![Outgoing {
            exchange,
            routing_key,
            payload: &payload,
            properties,
        }])
        .await
    }

    /// Sends raw messages and waits for every confirm, within the publish timeout. If the
    /// connection fails under them (closed by the broker, a network cut), they are all sent
    /// again on the next one: any that had got through arrives twice with the same eventId,
    /// which consumers dedupe, and none is lost.
    pub async fn send(&self, messages: Vec<Outgoing<'_>>) -> Result<(), PublishError> {
        let timeout = self.broker.settings().publish_timeout;
        let mut interrupted = None;
        let work = async {
            loop {
                match self.send_once(&messages).await {
                    Err(PublishError::Unavailable(reason)) if !self.broker.is_closed() => {
                        tracing::debug!(%reason, "publish interrupted; sending again");
                        interrupted = Some(reason);
                        self.forget_channel().await;
                        tokio::time::sleep(RESEND_PAUSE).await;
                    }
                    result => return result,
                }
            }
        };
        let outcome = tokio::time::timeout(timeout, work).await;
        match outcome {
            Ok(result) => result,
            Err(_) if interrupted.is_some() || !self.broker.is_ready() => {
                Err(PublishError::Unavailable(interrupted.unwrap_or_else(
                    || "no connection to RabbitMQ within the publish timeout".into(),
                )))
            }
            Err(_) => {
                self.forget_channel().await;
                Err(PublishError::Timeout)
            }
        }
    }

    /// One attempt on the current connection.
    async fn send_once(&self, messages: &[Outgoing<'_>]) -> Result<(), PublishError> {
        let channel = self.channel().await?;
        let mut confirms = Vec::with_capacity(messages.len());
        for message in messages {
            let confirm = channel
                .basic_publish(
                    message.exchange.into(),
                    message.routing_key.into(),
                    BasicPublishOptions {
                        mandatory: true,
                        ..BasicPublishOptions::default()
                    },
                    message.payload,
                    message.properties.clone(),
                )
                .await
                .map_err(failed);
            confirms.push(awaited(
                confirm,
                message.exchange.to_owned(),
                message.routing_key.to_owned(),
            ));
        }
        try_join_all(confirms).await.map(|_| ())
    }

    async fn forget_channel(&self) {
        *self.channel.lock().await = None;
    }

    /// The confirm channel of the current connection, opened on first use after a reconnect.
    async fn channel(&self) -> Result<Channel, PublishError> {
        let mut slot = self.channel.lock().await;
        let link = self
            .broker
            .link(&CancellationToken::new())
            .await
            .ok_or_else(|| PublishError::Unavailable("the broker is closed".into()))?;
        if let Some((generation, channel)) = slot.as_ref() {
            if *generation == link.generation && channel.status().connected() {
                return Ok(channel.clone());
            }
        }
        let channel = link
            .connection
            .create_channel()
            .await
            .map_err(|e| PublishError::Unavailable(e.to_string()))?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| PublishError::Unavailable(e.to_string()))?;
        *slot = Some((link.generation, channel.clone()));
        Ok(channel)
    }
}

async fn awaited(
    sent: Result<PublisherConfirm, PublishError>,
    exchange: String,
    routing_key: String,
) -> Result<(), PublishError> {
    let confirmation = sent?.await.map_err(failed)?;
    match confirmation {
        Confirmation::Ack(None) => Ok(()),
        Confirmation::Ack(Some(_)) => Err(PublishError::Unroutable {
            exchange,
            routing_key,
        }),
        Confirmation::Nack(_) | Confirmation::NotRequested => Err(PublishError::Nacked),
    }
}

/// A publish that failed in lapin: [`PublishError::Refused`] if the broker refused it on its
/// channel, else [`PublishError::Unavailable`], the connection failing under it (worth
/// sending again on the next connection).
fn failed(error: lapin::Error) -> PublishError {
    match error.kind() {
        lapin::ErrorKind::ProtocolError(amqp) if matches!(amqp.kind(), AMQPErrorKind::Soft(_)) => {
            PublishError::Refused(error.to_string())
        }
        _ => PublishError::Unavailable(error.to_string()),
    }
}
