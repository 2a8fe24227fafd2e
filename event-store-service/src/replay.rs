//! Replaying one stream: its events, in version order, re-published unchanged (same
//! `eventId`, same envelope) to a Redis stream and/or the `events.replay` exchange with their
//! original routing keys and the header `x-replay: true`. The replay exchange is apart from
//! the live domain exchanges, so a replay never sets off live side effects by accident.

use crate::{
    error::{Error, Result},
    metrics,
    store::{EventDocument, EventStore, StreamCursor},
    streams::RedisStreams,
};
use lapin::types::AMQPValue;
use shared::{
    event::exchanges,
    messaging::{properties, Outgoing, Publisher},
};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

/// Events read, and then sent, per round trip: each page is one range of the `stream_order`
/// index; a page's cost grows with its size (about 50 ms for 1,000 on the stand-in).
const PAGE: usize = 1000;

/// Where a replay goes; at least one target.
#[derive(Debug, Clone)]
pub struct Targets {
    /// A Redis stream (name without the prefix).
    pub redis_stream: Option<String>,
    /// The `events.replay` exchange.
    pub exchange: bool,
}

/// Which events of a stream to replay: versions `from..=to` (`to` open when absent).
#[derive(Debug, Clone, Copy)]
pub struct Versions {
    pub from: i64,
    pub to: Option<i64>,
}

pub struct Replayer {
    store: Arc<EventStore>,
    redis: RedisStreams,
    publisher: Publisher,
    /// Events one replay may send; a larger range is refused before anything is sent.
    max_events: u64,
}

impl Replayer {
    pub fn new(
        store: Arc<EventStore>,
        redis: RedisStreams,
        publisher: Publisher,
        max_events: u64,
    ) -> Self {
        Self {
            store,
            redis,
            publisher,
            max_events,
        }
    }

    /// Replays the `versions` of `stream_id`; returns how many events were sent (to each
    /// target). A range with no events is a 404, one with more than `max_events` a 422
    /// (counted from the index first, so nothing is sent): replay it in parts with `toVersion`.
    pub async fn replay(
        &self,
        stream_id: &str,
        versions: Versions,
        targets: &Targets,
    ) -> Result<usize> {
        let matching = self
            .store
            .count_stream(stream_id, versions.from, versions.to)
            .await?;
        if matching > self.max_events {
            return Err(Error::TooLarge {
                field: "toVersion",
                reason: format!(
                    "{matching} events of stream {stream_id:?} match; a replay sends at most {}: \
                     replay the stream in parts with `fromVersion` and `toVersion`",
                    self.max_events
                ),
            });
        }
        let mut cursor: Option<StreamCursor> = None;
        let mut count = 0;
        let (mut redis_time, mut exchange_time) = (Duration::ZERO, Duration::ZERO);
        // Stop at the cap also if events arrived since the count.
        let max = usize::try_from(self.max_events).unwrap_or(usize::MAX);
        while count < max {
            let page = self
                .store
                .stream_page(
                    stream_id,
                    (versions.from, versions.to),
                    cursor,
                    PAGE.min(max - count),
                )
                .await?;
            let Some(last) = page.last() else { break };
            cursor = Some(StreamCursor::after(last));
            if let Some(name) = &targets.redis_stream {
                let started = Instant::now();
                self.redis.append_replay(name, &page).await?;
                redis_time += started.elapsed();
            }
            if targets.exchange {
                let started = Instant::now();
                self.publish(&page).await?;
                exchange_time += started.elapsed();
            }
            count += page.len();
            if page.len() < PAGE {
                break;
            }
        }
        if count == 0 {
            return Err(Error::NotFound(format!(
                "stream {stream_id:?} has no events from version {}",
                versions.from
            )));
        }
        if targets.redis_stream.is_some() {
            metrics::replay("redis", count as u64, redis_time);
        }
        if targets.exchange {
            metrics::replay("exchange", count as u64, exchange_time);
        }
        Ok(count)
    }

    /// Publishes a page on one confirm channel, pipelined: order is kept, confirms awaited.
    async fn publish(&self, page: &[EventDocument]) -> Result<()> {
        let mut encoded = Vec::with_capacity(page.len());
        for event in page {
            let envelope = event.envelope()?;
            let payload =
                serde_json::to_vec(&envelope).map_err(|e| Error::Corrupt(e.to_string()))?;
            let props = properties::with_headers(
                &properties::for_envelope(&envelope),
                [(properties::REPLAY, AMQPValue::Boolean(true))],
            );
            encoded.push((envelope.routing_key(), payload, props));
        }
        let outgoing = encoded
            .iter()
            .map(|(routing_key, payload, props)| Outgoing {
                exchange: exchanges::REPLAY,
                routing_key,
                payload,
                properties: props.clone(),
            })
            .collect();
        self.publisher.send(outgoing).await?;
        Ok(())
    }
}
