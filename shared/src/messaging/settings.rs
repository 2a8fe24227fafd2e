//! Broker settings every service shares.

use super::{retry::RetryPolicy, topology::WorkQueueType};
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct BrokerSettings {
    /// `amqp://user:pass@host:port/vhost`; read from `RABBITMQ_URL`. The user is the
    /// service's own, with the permissions of [`permissions`](super::permissions) (never guest,
    /// which may do everything); the default is for a first local run only.
    pub url: String,
    /// Shown in the management UI; also the `source` of events this process raises itself.
    pub service_name: String,
    /// Deliveries in flight per consumer.
    pub prefetch: u16,
    /// Up to this many ready deliveries are handed to a handler at once.
    pub batch_size: usize,
    /// How long a consumer that has a delivery waits for more before handing the batch over
    /// (`APP_BROKER__BATCH_GATHER`, milliseconds; 0: hand over what is ready). A handler's
    /// cost is mostly per batch (a transaction, a few statements), so under load a few
    /// milliseconds here buy batches many times larger, for as much latency per hop. 30 ms
    /// with the relay's 20 ms: a quarter less CPU per complaint than 10 and 5 ms, at 150
    /// and 300 complaints/s (BENCHMARKS.md, fourth session on issue 11).
    #[serde(with = "crate::config::millis")]
    pub batch_gather: Duration,
    /// How long a publish may wait for a connection and then for the broker's confirm.
    #[serde(with = "crate::config::millis")]
    pub publish_timeout: Duration,
    /// The longest wait between two reconnect attempts.
    #[serde(with = "crate::config::millis")]
    pub reconnect_max_delay: Duration,
    pub retry: RetryPolicy,
    /// Quorum (the default) or classic work queues; see [`WorkQueueType`].
    pub work_queue_type: WorkQueueType,
    /// Partitions of each work queue (`APP_BROKER__PARTITIONS`), so that several instances
    /// share its work by complaint; 1 keeps one queue. Every instance of a service must use
    /// the same value; changing it on a running deployment is a migration (ARCHITECTURE.md,
    /// "Scaling").
    pub partitions: u16,
}

impl Default for BrokerSettings {
    fn default() -> Self {
        Self {
            url: "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned(),
            service_name: "complaint-suite".to_owned(),
            prefetch: 100,
            batch_size: 50,
            batch_gather: Duration::from_millis(30),
            publish_timeout: Duration::from_secs(10),
            reconnect_max_delay: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            work_queue_type: WorkQueueType::Quorum,
            partitions: 1,
        }
    }
}

impl BrokerSettings {
    /// The broker user `url` names (`None` if it is not an AMQP URL).
    pub fn user(&self) -> Option<String> {
        self.url
            .parse::<lapin::uri::AMQPUri>()
            .ok()
            .map(|uri| uri.authority.userinfo.username)
    }

    /// A service of the suite connecting as guest: it works (guest may do everything), but
    /// without the least privilege its own user would give.
    pub fn connects_as_guest(&self) -> bool {
        super::permissions::grant(&self.service_name).is_some()
            && self.user().as_deref() == Some("guest")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_connecting_as_guest_is_noticed() {
        let settings = BrokerSettings {
            service_name: "audit-service".into(),
            ..BrokerSettings::default()
        };
        assert_eq!(settings.user().as_deref(), Some("guest"));
        assert!(settings.connects_as_guest());
        let own = BrokerSettings {
            url: "amqp://audit-service:secret@rabbitmq:5672/%2f".into(),
            ..settings
        };
        assert_eq!(own.user().as_deref(), Some("audit-service"));
        assert!(!own.connects_as_guest());
    }
}
