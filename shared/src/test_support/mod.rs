//! What integration tests share: unique names so tests never share state, a fresh RabbitMQ
//! vhost per test, settings pointing at the local servers, and polling for eventual effects.
//! Servers are found through the same variables as the services (`DATABASE_URL`, …).

pub mod auth;
mod metrics;
mod rabbit;
mod smtp;

pub use metrics::{metrics_grown, metrics_with, Scrape};
pub use rabbit::{test_user, TestVhost};
pub use smtp::{ReceivedMail, SmtpServer};

use crate::{
    messaging::{BrokerSettings, RetryPolicy, WorkQueueType},
    postgres::DatabaseSettings,
};
use std::{future::Future, time::Duration};

pub fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// `prefix` followed by 12 random hex digits: a name no other test run uses.
pub fn unique(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}{}", &id[..12])
}

/// A fresh schema (`test_…`) in the local database.
pub fn database() -> DatabaseSettings {
    DatabaseSettings {
        url: env_or(
            "DATABASE_URL",
            "postgres://postgres:postgres@127.0.0.1:5432/complaints",
        ),
        schema: unique("test_"),
        max_connections: 5,
        ..DatabaseSettings::default()
    }
}

/// Broker settings for `vhost`, with retry delays short enough for a test to watch, and
/// classic work queues (see [`WorkQueueType`]); [`quorum_broker`] keeps the production type.
pub fn broker(vhost: &TestVhost, service: &str) -> BrokerSettings {
    BrokerSettings {
        work_queue_type: WorkQueueType::Classic,
        ..quorum_broker(vhost, service)
    }
}

/// [`broker`] with quorum work queues, as deployed. A service of the suite connects as its own
/// broker user, with its production permissions; any other name as the management user.
pub fn quorum_broker(vhost: &TestVhost, service: &str) -> BrokerSettings {
    BrokerSettings {
        url: vhost
            .amqp_url_as(service)
            .unwrap_or_else(|| vhost.amqp_url.clone()),
        service_name: service.to_owned(),
        publish_timeout: Duration::from_secs(5),
        reconnect_max_delay: Duration::from_millis(500),
        retry: RetryPolicy {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(2),
            max_attempts: 3,
        },
        ..BrokerSettings::default()
    }
}

/// Polls `probe` every 50 ms until it returns `Some`, or panics after `timeout` saying `what`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
