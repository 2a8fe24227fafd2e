//! What the tests of every crate share, one file per purpose: unique names so tests never
//! share state, settings for the local servers, a fresh RabbitMQ vhost per test, polling for
//! eventual effects, the reply of an HTTP call, event taps, a publisher standing in for the
//! other services, event fixtures, tokens and a real SMTP server. Servers are found through
//! the same variables as the services (`DATABASE_URL`, …). What differs per service (building
//! its `App`) stays in that service's `tests/it/harness.rs`.

pub mod auth;
pub mod events;
mod matrix;
mod metrics;
mod pages;
mod publisher;
mod rabbit;
mod reply;
mod running;
mod settings;
mod smtp;
mod tap;

pub use matrix::Matrix;
pub use metrics::{metrics_grown, metrics_with, Scrape};
pub use pages::all_pages;
pub use publisher::StandIn;
pub use rabbit::{private_queue, test_user, TestVhost};
pub use reply::{with_headers, Reply};
pub use running::Running;
pub use settings::{
    broker, database, http, mongo_url, quorum_broker, redis_prefix, redis_url, service,
};
pub use smtp::{ReceivedMail, SmtpServer};
pub use tap::{Delivered, EventTap};

use std::{future::Future, time::Duration};

/// How long the shared helpers wait for an eventual effect (generous: two cores run the
/// services, the servers and the tests).
pub const WAIT: Duration = Duration::from_secs(30);

pub fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// `prefix` followed by 12 random hex digits: a name no other test run uses.
pub fn unique(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}{}", &id[..12])
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
