//! How notifications are delivered: which transport, its settings, pacing and retries.

use super::breaker::BreakerSettings;
use serde::{Deserialize, Serialize};
use shared::backoff::RetryPolicy;
use std::time::Duration;

shared::wire_enum!(
    /// How messages leave (`MAIL_TRANSPORT`).
    TransportKind, "lowercase" {
        /// E-mail through an SMTP server (`delivery.smtp`).
        Smtp => "smtp",
        /// One JSON line per message, appended to `notifications.jsonl` in `delivery.file_dir`.
        File => "file",
        /// One log line per message.
        Log => "log",
    }
);

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct DeliverySettings {
    /// Off only in tests that need notifications to stay pending.
    pub enabled: bool,
    /// `MAIL_TRANSPORT`: `smtp`, `file` (the local default) or `log`.
    pub transport: TransportKind,
    /// `MAIL_FROM`: the sender of every message, `Name <address>` or a bare address.
    pub from: String,
    pub smtp: SmtpSettings,
    /// `MAIL_DIR`: where the file transport writes.
    pub file_dir: String,
    /// Notifications taken per round.
    pub batch_size: i64,
    /// Messages in flight at once within a round.
    pub concurrency: usize,
    /// The safety-net poll, should a wake-up be missed.
    #[serde(with = "shared::config::millis")]
    pub poll_interval: Duration,
    pub retry: RetryPolicy,
    /// The circuit breaker on the mail server.
    pub breaker: BreakerSettings,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            enabled: true,
            transport: TransportKind::File,
            from: "Customer care <no-reply@complaints.example.com>".to_owned(),
            smtp: SmtpSettings::default(),
            file_dir: "var/notifications".to_owned(),
            batch_size: 100,
            concurrency: 32,
            poll_interval: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            breaker: BreakerSettings::default(),
        }
    }
}

/// TLS towards the SMTP server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text (a local relay or a test server).
    None,
    /// STARTTLS if the server offers it, plain text otherwise.
    Opportunistic,
    /// STARTTLS, required (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct SmtpSettings {
    /// `SMTP_HOST`.
    pub host: String,
    /// `SMTP_PORT`.
    pub port: u16,
    /// `SMTP_TLS`.
    pub tls: SmtpTls,
    /// `SMTP_USERNAME`; no authentication when absent.
    pub username: Option<String>,
    /// `SMTP_PASSWORD`.
    pub password: Option<Secret>,
    /// For each SMTP command, and for connecting.
    #[serde(with = "shared::config::millis")]
    pub timeout: Duration,
    /// Connections kept open to the server.
    pub pool_size: u32,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            host: "localhost".to_owned(),
            port: 25,
            tls: SmtpTls::None,
            username: None,
            password: None,
            timeout: Duration::from_secs(10),
            pool_size: 32,
        }
    }
}

/// A secret setting (now shared: the token key is one too).
pub use shared::config::Secret;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_not_shown_in_debug_output() {
        let smtp = SmtpSettings {
            password: Some(Secret("hunter2".into())),
            ..SmtpSettings::default()
        };
        assert!(!format!("{smtp:?}").contains("hunter2"));
    }
}
