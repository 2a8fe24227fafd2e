//! Settings: defaults, then `APP_CONFIG_FILE`, then the environment (see `shared::config`);
//! the sections every service has are in [`ServiceSettings`].
//! Durations are whole milliseconds (`APP_PROJECTION__MAX_READ_WAIT=2000`).

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};
use shared::{
    complaint::{Policy, SlaTargets},
    config::millis,
    outbox::RelaySettings,
    postgres::DatabaseSettings,
    service::ServiceSettings,
};
use std::time::Duration;

pub const SERVICE: &str = "complaint-service";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    #[serde(flatten)]
    pub service: ServiceSettings,
    pub database: DatabaseSettings,
    /// The outbox relay (`enabled: false` keeps events in the outbox; tests only).
    pub relay: RelaySettings,
    pub projection: ProjectionSettings,
    pub policy: PolicySettings,
    pub idempotency: IdempotencySettings,
    pub saga: SagaSettings,
    pub snapshots: SnapshotSettings,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            service: ServiceSettings::new(SERVICE, 3005),
            database: DatabaseSettings::new("complaint"),
            relay: RelaySettings::default(),
            projection: ProjectionSettings::default(),
            policy: PolicySettings::default(),
            idempotency: IdempotencySettings::default(),
            saga: SagaSettings::default(),
            snapshots: SnapshotSettings::default(),
        }
    }
}

shared::service_settings!(Config, [("DATABASE_URL", "database.url")]);

/// The read side: the projector that keeps the views, and how long a read may wait for it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct ProjectionSettings {
    /// Off only in tests that need the read model to lag behind.
    pub enabled: bool,
    /// Events applied per transaction under load.
    pub batch_size: i64,
    /// The safety-net poll, should a notification be missed.
    #[serde(with = "millis")]
    pub poll_interval: Duration,
    /// Once woken, how long to take in more commits before a batch: under load a few
    /// commits per batch instead of one, at the price of this much read-your-writes latency.
    #[serde(with = "millis")]
    pub gather: Duration,
    /// The longest a read with `minVersion` waits for the projection before answering 503
    /// `READ_MODEL_BEHIND`.
    #[serde(with = "millis")]
    pub max_read_wait: Duration,
}

impl Default for ProjectionSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            batch_size: 500,
            poll_interval: Duration::from_secs(1),
            gather: Duration::from_millis(3),
            max_read_wait: Duration::from_secs(2),
        }
    }
}

/// The business rules of [`Policy`]: SLA targets per priority and the reopen window.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct PolicySettings {
    #[serde(with = "millis")]
    pub sla_low: Duration,
    #[serde(with = "millis")]
    pub sla_medium: Duration,
    #[serde(with = "millis")]
    pub sla_high: Duration,
    #[serde(with = "millis")]
    pub sla_critical: Duration,
    #[serde(with = "millis")]
    pub reopen_window: Duration,
}

impl Default for PolicySettings {
    fn default() -> Self {
        let policy = Policy::default();
        let std = |d: TimeDelta| d.to_std().unwrap_or(Duration::ZERO);
        Self {
            sla_low: std(policy.sla.low),
            sla_medium: std(policy.sla.medium),
            sla_high: std(policy.sla.high),
            sla_critical: std(policy.sla.critical),
            reopen_window: std(policy.reopen_window),
        }
    }
}

impl PolicySettings {
    pub fn policy(&self) -> Policy {
        // Only a duration beyond ~292 billion years fails to convert; treat it as "forever".
        let delta = |d: Duration| TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX);
        Policy {
            sla: SlaTargets {
                low: delta(self.sla_low),
                medium: delta(self.sla_medium),
                high: delta(self.sla_high),
                critical: delta(self.sla_critical),
            },
            reopen_window: delta(self.reopen_window),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct IdempotencySettings {
    /// How long the answer to a create with an `Idempotency-Key` is kept for retries.
    #[serde(with = "millis")]
    pub retention: Duration,
}

impl Default for IdempotencySettings {
    fn default() -> Self {
        Self {
            retention: Duration::from_secs(24 * 3600),
        }
    }
}

/// Snapshots of the aggregate (`complaint_snapshots`), so that a command folds the events
/// after the latest snapshot rather than the whole stream.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct SnapshotSettings {
    /// A command writes a new snapshot once this many events followed the last one
    /// (`APP_SNAPSHOTS__EVERY`); 0 turns snapshots off (every command folds the whole stream).
    pub every: u32,
}

impl Default for SnapshotSettings {
    fn default() -> Self {
        Self { every: 100 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_policy_settings_give_the_default_policy() {
        assert_eq!(PolicySettings::default().policy(), Policy::default());
    }

    #[test]
    fn the_service_listens_on_3005_by_default() {
        let config = Config::default();
        assert_eq!(config.http.port, 3005);
        assert_eq!(config.broker.service_name, SERVICE);
        assert_eq!(config.projection.max_read_wait, Duration::from_secs(2));
    }
}

/// The sagas' clocks.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct SagaSettings {
    /// How long a saga step may wait for its answer before the saga fails and a person is
    /// called (ERROR_MANUAL_INTERVENTION_REQUIRED).
    #[serde(with = "millis")]
    pub step_timeout: Duration,
    /// How often SLA deadlines and step deadlines are checked (also once at start-up).
    #[serde(with = "millis")]
    pub clock_interval: Duration,
    /// How many times a step that got no answer by its deadline is resumed (SAGA_RETRIED,
    /// a new deadline) before the saga fails. 0: it fails at the first deadline.
    pub auto_resumes: u32,
}

impl Default for SagaSettings {
    fn default() -> Self {
        Self {
            step_timeout: Duration::from_secs(300),
            clock_interval: Duration::from_secs(1),
            auto_resumes: 0,
        }
    }
}

impl SagaSettings {
    pub fn step_timeout(&self) -> TimeDelta {
        TimeDelta::from_std(self.step_timeout).unwrap_or(TimeDelta::MAX)
    }
}
