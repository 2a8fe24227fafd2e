//! Redis Streams: the mirror of the log into one stream per domain (mirror.rs), replay targets,
//! and consumer groups for clients that replay (groups.rs).
//!
//! Every key is the configured `redis.stream_prefix` followed by the stream's name, so the
//! API speaks of `complaints-stream` while Redis holds `<prefix>complaints-stream`.

mod entry;
mod groups;
mod mirror;
pub mod names;

pub use entry::Entry;
pub use groups::{Claimed, Pending, PendingConsumer};
pub use mirror::Mirror;

use crate::{config::RedisSettings, error::Result, metrics, store::EventDocument};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::time::{Duration, Instant};

/// Replies to pipelines of a few hundred XADDs take longer than the driver's default 500 ms
/// when the server is busy.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);
/// XADDs per round trip when writing many entries.
const PIPELINE: usize = 500;

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

    /// Appends `events` to stream `name` in order, with ids Redis assigns (a replay target).
    pub async fn append_replay(&self, name: &str, events: &[EventDocument]) -> Result<()> {
        let key = self.key(name);
        let mut connection = self.connection.clone();
        for chunk in events.chunks(PIPELINE) {
            let mut pipe = redis::pipe();
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
