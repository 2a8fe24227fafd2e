//! Settings: defaults, then `APP_CONFIG_FILE`, then the environment (see `shared::config`).
//! Besides `APP_<SECTION>__<KEY>`, the conventional names below are read. The sections every
//! service has are in [`ServiceSettings`].

use crate::delivery::DeliverySettings;
use serde::{Deserialize, Serialize};
use shared::{outbox::RelaySettings, postgres::DatabaseSettings, service::ServiceSettings};

pub const SERVICE: &str = "notification-service";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    #[serde(flatten)]
    pub service: ServiceSettings,
    pub database: DatabaseSettings,
    pub relay: RelaySettings,
    pub agents: AgentSettings,
    pub delivery: DeliverySettings,
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
            service: ServiceSettings::new(SERVICE, 3006),
            database: DatabaseSettings::new("notification"),
            relay: RelaySettings::default(),
            agents: AgentSettings::default(),
            delivery: DeliverySettings::default(),
        }
    }
}

shared::service_settings!(
    Config,
    [
        ("DATABASE_URL", "database.url"),
        ("AGENTS_SEED_FILE", "agents.seed_file"),
        ("MAIL_TRANSPORT", "delivery.transport"),
        ("MAIL_FROM", "delivery.from"),
        ("MAIL_DIR", "delivery.file_dir"),
        ("SMTP_HOST", "delivery.smtp.host"),
        ("SMTP_PORT", "delivery.smtp.port"),
        ("SMTP_TLS", "delivery.smtp.tls"),
        ("SMTP_USERNAME", "delivery.smtp.username"),
        ("SMTP_PASSWORD", "delivery.smtp.password"),
    ]
);
