//! Settings: defaults, then `APP_CONFIG_FILE`, then the environment (see `shared::config`).

use serde::{Deserialize, Serialize};
use shared::{
    http::HttpSettings, messaging::BrokerSettings, outbox::RelaySettings,
    postgres::DatabaseSettings,
};

pub const SERVICE: &str = "audit-service";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    pub log_level: String,
    pub http: HttpSettings,
    /// Bearer tokens: the key they are checked with, issuer and audience (`APP_AUTH__…`).
    pub auth: shared::auth::AuthSettings,
    pub database: DatabaseSettings,
    pub broker: BrokerSettings,
    /// The relay publishing AUDIT_COMPENSATION events from the outbox.
    pub relay: RelaySettings,
    pub audit: AuditSettings,
}

/// Settings of the trail itself.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditSettings {
    /// Entries read per query while verifying the chain.
    pub verify_page_size: u32,
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self {
            verify_page_size: 1000,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            log_level: "info".to_owned(),
            http: HttpSettings::on_port(3007),
            auth: shared::auth::AuthSettings::default(),
            database: DatabaseSettings::new("audit"),
            broker: BrokerSettings {
                service_name: SERVICE.to_owned(),
                ..BrokerSettings::default()
            },
            relay: RelaySettings::default(),
            audit: AuditSettings::default(),
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
        ])
    }
}
