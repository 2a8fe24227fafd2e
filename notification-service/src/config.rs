//! Settings: defaults, then `APP_CONFIG_FILE`, then the environment (see `shared::config`).
//! Besides `APP_<SECTION>__<KEY>`, the conventional names below are read.

use crate::delivery::DeliverySettings;
use serde::{Deserialize, Serialize};
use shared::{
    http::HttpSettings, messaging::BrokerSettings, monitoring::MonitorSettings,
    outbox::RelaySettings, postgres::DatabaseSettings,
};

pub const SERVICE: &str = "notification-service";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    pub log_level: String,
    pub http: HttpSettings,
    /// Bearer tokens: the key they are checked with, issuer and audience (`APP_AUTH__…`).
    pub auth: shared::auth::AuthSettings,
    pub database: DatabaseSettings,
    pub broker: BrokerSettings,
    pub relay: RelaySettings,
    pub agents: AgentSettings,
    pub delivery: DeliverySettings,
    /// Raises MONITORING_* events (consumer lag, growing DLQs, dependencies down).
    pub monitoring: MonitorSettings,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct AgentSettings {
    /// `AGENTS_SEED_FILE`: the directory's seed, upserted at startup. When it is the default
    /// path and that file is absent (a binary run outside the repository), the copy compiled
    /// into the binary is used; any other missing path is an error.
    pub seed_file: String,
}

pub const DEFAULT_SEED_FILE: &str = "notification-service/seed/agents.json";

impl Default for AgentSettings {
    fn default() -> Self {
        Self {
            seed_file: DEFAULT_SEED_FILE.to_owned(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            log_level: "info".to_owned(),
            http: HttpSettings::on_port(3006),
            auth: shared::auth::AuthSettings::default(),
            database: DatabaseSettings::new("notification"),
            broker: BrokerSettings {
                service_name: SERVICE.to_owned(),
                ..BrokerSettings::default()
            },
            relay: RelaySettings::default(),
            agents: AgentSettings::default(),
            delivery: DeliverySettings::default(),
            monitoring: MonitorSettings::default(),
        }
    }
}

impl Config {
    pub fn load() -> Result<Self, shared::config::ConfigError> {
        shared::config::load(&[
            ("PORT", "http.port"),
            ("CORRELATION_ID_HEADER", "http.correlation_header"),
            ("DATABASE_URL", "database.url"),
            ("RABBITMQ_URL", "broker.url"),
            ("LOG_LEVEL", "log_level"),
            ("AGENTS_SEED_FILE", "agents.seed_file"),
            ("MAIL_TRANSPORT", "delivery.transport"),
            ("MAIL_FROM", "delivery.from"),
            ("MAIL_DIR", "delivery.file_dir"),
            ("SMTP_HOST", "delivery.smtp.host"),
            ("SMTP_PORT", "delivery.smtp.port"),
            ("SMTP_TLS", "delivery.smtp.tls"),
            ("SMTP_USERNAME", "delivery.smtp.username"),
            ("SMTP_PASSWORD", "delivery.smtp.password"),
        ])
    }
}
