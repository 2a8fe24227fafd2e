//! Settings: defaults, then `APP_CONFIG_FILE`, then the environment (see `shared::config`);
//! the sections every service has are in [`ServiceSettings`].

use serde::{Deserialize, Serialize};
use shared::{messaging::BrokerSettings, service::ServiceSettings};

pub const SERVICE: &str = "event-store-service";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    #[serde(flatten)]
    pub service: ServiceSettings,
    pub mongo: MongoSettings,
    pub redis: RedisSettings,
    pub limits: Limits,
}

/// What one request may cost at most (tests lower them to reach them with few events).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Positions one page of `GET /all` scans when no single index answers its filters.
    pub scan_window: i64,
    /// A time range alone holding at most this many events is read through its index.
    pub small_time_range: u64,
    /// Events a state is folded from.
    pub fold_max_events: usize,
    /// Events one replay sends.
    pub replay_max_events: u64,
    /// `/state` keeps a snapshot of a stream every this many events
    /// (`APP_LIMITS__SNAPSHOT_EVERY`; 0 turns snapshots off).
    pub snapshot_every: u32,
}

impl Default for Limits {
    fn default() -> Self {
        let read = crate::store::ReadLimits::default();
        Self {
            scan_window: read.scan_window,
            small_time_range: read.small_time_range,
            fold_max_events: read.fold_max_events,
            replay_max_events: 10_000,
            snapshot_every: read.snapshot_every,
        }
    }
}

impl Limits {
    pub fn read(&self) -> crate::store::ReadLimits {
        crate::store::ReadLimits {
            scan_window: self.scan_window.max(1),
            small_time_range: self.small_time_range,
            fold_max_events: self.fold_max_events.max(1),
            snapshot_every: self.snapshot_every,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct MongoSettings {
    /// `MONGODB_URL`.
    pub url: String,
    /// Tests use a fresh database each.
    pub database: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct RedisSettings {
    /// `REDIS_URL`.
    pub url: String,
    /// Prepended to every stream name (tests use a fresh prefix each).
    pub stream_prefix: String,
    /// `XADD … MAXLEN ~ n`.
    pub stream_max_len: usize,
}

impl Default for Config {
    fn default() -> Self {
        let service = ServiceSettings::new(SERVICE, 3008);
        Self {
            service: ServiceSettings {
                broker: BrokerSettings {
                    // Bigger batches than other services: one MongoDB and one Redis round
                    // trip per batch is where ingestion spends its time.
                    prefetch: 1000,
                    batch_size: 500,
                    ..service.broker
                },
                ..service
            },
            mongo: MongoSettings {
                url: "mongodb://127.0.0.1:27017".to_owned(),
                database: "event_store".to_owned(),
            },
            redis: RedisSettings {
                url: "redis://127.0.0.1:6379".to_owned(),
                stream_prefix: String::new(),
                stream_max_len: 1_000_000,
            },
            limits: Limits::default(),
        }
    }
}

impl Default for MongoSettings {
    fn default() -> Self {
        Config::default().mongo
    }
}

impl Default for RedisSettings {
    fn default() -> Self {
        Config::default().redis
    }
}

shared::service_settings!(
    Config,
    [("MONGODB_URL", "mongo.url"), ("REDIS_URL", "redis.url")]
);
