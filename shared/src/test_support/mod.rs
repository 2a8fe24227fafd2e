//! What integration tests share: unique names so tests never share state, a fresh RabbitMQ
//! vhost per test, settings pointing at the local servers, and polling for eventual effects.
//! Servers are found through the same variables as the services (`DATABASE_URL`, …).

pub mod auth;
mod rabbit;
mod smtp;

pub use rabbit::TestVhost;
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

/// [`broker`] with quorum work queues, as deployed.
pub fn quorum_broker(vhost: &TestVhost, service: &str) -> BrokerSettings {
    BrokerSettings {
        url: vhost.amqp_url.clone(),
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

/// The text of `{address}/metrics` once every one of `series` appears in it. Services record
/// a metric just after the effect a test can observe (a stored row, a published event), so a
/// scrape taken the moment the effect shows may still precede the count; this waits for it.
pub async fn metrics_with(address: &str, series: &[&str]) -> String {
    let url = format!("{address}/metrics");
    eventually(
        &format!("{url} to show {series:?}"),
        Duration::from_secs(10),
        || async {
            let text = reqwest::get(&url).await.ok()?.text().await.ok()?;
            series
                .iter()
                .all(|name| text.contains(name))
                .then_some(text)
        },
    )
    .await
}
