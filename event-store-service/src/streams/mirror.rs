//! The mirror of the log into the Redis domain streams: every stored event is XADDed exactly
//! once, in position order, to its domain stream.
//!
//! MongoDB is the source of truth and Redis follows it, like an outbox relay:
//! - an event's entry id is `<position>-0`. Redis refuses an id not above the stream's last
//!   one, so writing an entry twice is refused by Redis itself, and entries of one domain
//!   stream are in global order;
//! - a checkpoint key (`<prefix>event-store:mirrored-position`) says up to which position
//!   everything is mirrored. It is SET in the same MULTI/EXEC as the XADDs it covers, so the
//!   two never disagree;
//! - after ingesting a batch the consumer hands the stored events over; if they follow the
//!   checkpoint they are written in one round trip. Otherwise (after a Redis outage, at start,
//!   or after a crash between the MongoDB write and the XADDs) the mirror catches up from
//!   MongoDB, `position > checkpoint`, which finds every missing event because positions are
//!   contiguous and written in order (see `store/append.rs`).
//!
//! So ingestion never waits for Redis to be up: a failed mirror write leaves the mirror
//! lagging, and a background loop catches up once Redis answers again.

use super::{entry, RedisStreams, PIPELINE};
use crate::{
    error::Result,
    metrics,
    store::{EventDocument, EventStore},
};
use redis::Value;
use shared::lifecycle::Background;
use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};
use tokio::sync::Mutex;

/// How often a lagging mirror tries to catch up.
const CATCH_UP_EVERY: Duration = Duration::from_secs(1);
/// How often the event-count gauge is refreshed from MongoDB.
const RECOUNT_EVERY: Duration = Duration::from_secs(30);

pub struct Mirror {
    redis: RedisStreams,
    store: Arc<EventStore>,
    /// The mirrored position, once read from Redis; `None` after a failure (unknown).
    checkpoint: Mutex<Option<i64>>,
    lagging: AtomicBool,
}

impl Mirror {
    pub fn new(redis: RedisStreams, store: Arc<EventStore>) -> Arc<Self> {
        Arc::new(Self {
            redis,
            store,
            checkpoint: Mutex::new(None),
            lagging: AtomicBool::new(true),
        })
    }

    fn checkpoint_key(&self) -> String {
        self.redis.key("event-store:mirrored-position")
    }

    /// Called with the events of a batch just appended (in position order): mirrors them now,
    /// unless the mirror is lagging, in which case the background loop catches up (ingestion
    /// does not wait on a Redis that is down).
    pub async fn offer(&self, stored: &[EventDocument]) {
        if !self.is_lagging() {
            // Errors are logged and counted in `sync`, and leave the mirror lagging.
            let _ = self.sync(stored).await;
        }
    }

    /// Mirrors `stored` and anything before them not yet mirrored. On error the mirror is
    /// marked lagging and the background loop takes over.
    pub async fn sync(&self, stored: &[EventDocument]) -> Result<()> {
        let mut checkpoint = self.checkpoint.lock().await;
        let result = self.sync_locked(&mut checkpoint, stored).await;
        match &result {
            Ok(()) => self.lagging.store(false, Ordering::Relaxed),
            Err(error) => {
                *checkpoint = None;
                self.lagging.store(true, Ordering::Relaxed);
                metrics::operation("mirror", "error", stored.len() as u64);
                tracing::warn!(%error, "cannot mirror events to Redis; will catch up");
            }
        }
        result
    }

    async fn sync_locked(
        &self,
        checkpoint: &mut Option<i64>,
        stored: &[EventDocument],
    ) -> Result<()> {
        let mut mirrored = match *checkpoint {
            Some(position) => position,
            None => self.read_checkpoint().await?,
        };
        *checkpoint = Some(mirrored);
        if follows(mirrored, stored) {
            self.push(stored).await?;
            *checkpoint = stored.last().map(|e| e.position);
            return Ok(());
        }
        if stored.last().is_some_and(|e| e.position <= mirrored) {
            return Ok(());
        }
        loop {
            let page = self.store.after_position(mirrored, PIPELINE).await?;
            let Some(last) = page.last().map(|e| e.position) else {
                return Ok(());
            };
            self.push(&page).await?;
            mirrored = last;
            *checkpoint = Some(mirrored);
            if page.len() < PIPELINE {
                return Ok(());
            }
        }
    }

    async fn read_checkpoint(&self) -> Result<i64> {
        let mut connection = self.redis.connection.clone();
        let value: Option<i64> = redis::cmd("GET")
            .arg(self.checkpoint_key())
            .query_async(&mut connection)
            .await?;
        Ok(value.unwrap_or(0))
    }

    /// XADDs `events` to their domain streams and moves the checkpoint, atomically.
    async fn push(&self, events: &[EventDocument]) -> Result<()> {
        let Some(last) = events.last() else {
            return Ok(());
        };
        let mut pipe = redis::pipe();
        pipe.atomic().ignore_errors();
        for event in events {
            pipe.cmd("XADD")
                .arg(self.redis.key(&event.domain_stream))
                .arg("MAXLEN")
                .arg("~")
                .arg(self.redis.max_len)
                .arg(format!("{}-0", event.position))
                .arg(entry::fields(event, entry::Origin::Log)?);
        }
        pipe.cmd("SET")
            .arg(self.checkpoint_key())
            .arg(last.position);
        let mut connection = self.redis.connection.clone();
        let started = Instant::now();
        let mut replies: Vec<redis::RedisResult<Value>> = pipe.query_async(&mut connection).await?;
        metrics::redis_write(started.elapsed());
        if let Some(Err(error)) = replies.pop() {
            // The checkpoint was not moved: the entries will be offered again, and refused.
            return Err(error.into());
        }
        let (mut added, mut present) = (0, 0);
        for (reply, event) in replies.iter().zip(events) {
            match reply {
                Ok(_) => added += 1,
                Err(error) if already_there(error) => present += 1,
                Err(error) => {
                    // Only a misconfiguration gets here (the key holds another type); the
                    // event stays in MongoDB and the checkpoint moves on.
                    metrics::operation("mirror", "error", 1);
                    tracing::error!(%error, position = event.position, stream = %event.domain_stream, "Redis refused a mirrored entry");
                }
            }
        }
        metrics::operation("mirror", "ok", added);
        metrics::operation("mirror", "already-mirrored", present);
        Ok(())
    }

    /// Catches up whenever the mirror lags (at start, after a Redis outage), and keeps the
    /// event-count gauge honest, until shutdown.
    pub fn spawn_maintenance(self: &Arc<Self>, background: &Background) {
        let mirror = self.clone();
        let shutdown = background.shutdown.clone();
        background.tracker.spawn(async move {
            let mut catch_up = tokio::time::interval(CATCH_UP_EVERY);
            let mut recount = tokio::time::interval(RECOUNT_EVERY);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = catch_up.tick() => {
                        if mirror.lagging.load(Ordering::Relaxed) {
                            let _ = mirror.sync(&[]).await;
                        }
                    }
                    _ = recount.tick() => {
                        if let Ok(count) = mirror.store.estimated_count().await {
                            metrics::set_event_count(count);
                        }
                    }
                }
            }
        });
    }

    /// Whether everything stored is known to be mirrored.
    pub fn is_lagging(&self) -> bool {
        self.lagging.load(Ordering::Relaxed)
    }
}

/// Whether `stored` continues the mirror right after `mirrored`, with no gap.
fn follows(mirrored: i64, stored: &[EventDocument]) -> bool {
    !stored.is_empty()
        && stored
            .iter()
            .enumerate()
            .all(|(i, e)| e.position == mirrored + 1 + i as i64)
}

/// Redis's answer to an XADD whose id is not above the stream's last one: written before.
fn already_there(error: &redis::RedisError) -> bool {
    error.to_string().contains("equal or smaller")
}
