//! Redis Streams: the mirror of the log into one stream per domain (mirror.rs), replay targets,
//! and consumer groups for clients that replay (groups.rs).
//!
//! Every key is the configured `redis.stream_prefix` followed by the stream's name, so the
//! API speaks of `complaints-stream` while Redis holds `<prefix>complaints-stream`. The
//! service's own streams are the domain streams and the replay targets it wrote, which it
//! lists in the set `<prefix>event-store:replay-targets`; the consumer-group API reaches
//! those and no other key.

mod entry;
mod groups;
mod mirror;
pub mod names;

pub use entry::Entry;
pub use groups::{Claimed, Pending, PendingConsumer};
pub use mirror::Mirror;

use crate::{config::RedisSettings, error::Result, metrics, store::EventDocument};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use shared::event::streams;
use std::time::{Duration, Instant};

/// Replies to pipelines of a few hundred XADDs take longer than the driver's default 500 ms
/// when the server is busy.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);
/// XADDs per round trip when writing many entries.
const PIPELINE: usize = 500;
/// The set of replay targets written (names without the prefix).
const REPLAY_TARGETS: &str = "event-store:replay-targets";

/// A handle on Redis; cheap to clone.
#[derive(Clone)]
pub struct RedisStreams {
    client: redis::Client,
    connection: ConnectionManager,
    prefix: String,
    max_len: usize,
}

impl RedisStreams {
    /// Connects (a connection manager that reconnects by itself after the first connection).
    pub async fn connect(settings: &RedisSettings) -> Result<Self> {
        let client = redis::Client::open(settings.url.as_str())?;
        let config = ConnectionManagerConfig::new().set_response_timeout(Some(RESPONSE_TIMEOUT));
        let connection = ConnectionManager::new_with_config(client.clone(), config).await?;
        Ok(Self {
            client,
            connection,
            prefix: settings.stream_prefix.clone(),
            max_len: settings.stream_max_len,
        })
    }

    /// The Redis key of stream `name`.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    pub async fn ping(&self) -> bool {
        let mut connection = self.connection.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
            .is_ok()
    }

    /// Whether `name` is one of the service's streams: a domain stream, or a replay target
    /// it wrote.
    pub async fn owns(&self, name: &str) -> Result<bool> {
        if streams::ALL.contains(&name) {
            return Ok(true);
        }
        let mut connection = self.connection.clone();
        Ok(redis::cmd("SISMEMBER")
            .arg(self.key(REPLAY_TARGETS))
            .arg(name)
            .query_async(&mut connection)
            .await?)
    }

    /// Appends `events` to stream `name` in order, with ids Redis assigns (a replay target).
    pub async fn append_replay(&self, name: &str, events: &[EventDocument]) -> Result<()> {
        let key = self.key(name);
        let mut connection = self.connection.clone();
        for (n, chunk) in events.chunks(PIPELINE).enumerate() {
            let mut pipe = redis::pipe();
            if n == 0 {
                // Listed before its first entry, so no entry is ever in an unlisted stream.
                pipe.cmd("SADD")
                    .arg(self.key(REPLAY_TARGETS))
                    .arg(name)
                    .ignore();
            }
            for event in chunk {
                let fields = entry::fields(event, entry::Origin::Replay)?;
                pipe.cmd("XADD")
                    .arg(&key)
                    .arg("MAXLEN")
                    .arg("~")
                    .arg(self.max_len)
                    .arg("*")
                    .arg(&fields)
                    .ignore();
            }
            let started = Instant::now();
            pipe.query_async::<()>(&mut connection).await?;
            metrics::redis_write(started.elapsed());
        }
        Ok(())
    }
}
