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

/// Events read, and then sent, per round trip. Large: each query has a fixed cost (on the
/// stand-in about 0.1 s, a scan), while 2,000 events are a few megabytes.
const PAGE: usize = 2000;

/// Where a replay goes; at least one target.
#[derive(Debug, Clone)]
pub struct Targets {
    /// A Redis stream (name without the prefix).
    pub redis_stream: Option<String>,
    /// The `events.replay` exchange.
    pub exchange: bool,
}

pub struct Replayer {
    store: Arc<EventStore>,
    redis: RedisStreams,
    publisher: Publisher,
}

impl Replayer {
    pub fn new(store: Arc<EventStore>, redis: RedisStreams, publisher: Publisher) -> Self {
        Self {
            store,
            redis,
            publisher,
        }
    }

    /// Replays `stream_id` from `from_version`; returns how many events were sent (to each
    /// target). A stream with no such events is a 404.
    pub async fn replay(
        &self,
        stream_id: &str,
        from_version: i64,
        targets: &Targets,
    ) -> Result<usize> {
        let mut cursor: Option<StreamCursor> = None;
        let mut count = 0;
        let (mut redis_time, mut exchange_time) = (Duration::ZERO, Duration::ZERO);
        loop {
            let page = self
                .store
                .stream_page(stream_id, from_version, cursor, PAGE)
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
                "stream {stream_id:?} has no events from version {from_version}"
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
