//! Settings: defaults, then `APP_CONFIG_FILE`, then the environment (see `shared::config`);
//! the sections every service has are in [`ServiceSettings`].

use serde::{Deserialize, Serialize};
use shared::{outbox::RelaySettings, postgres::DatabaseSettings, service::ServiceSettings};

pub const SERVICE: &str = "audit-service";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    #[serde(flatten)]
    pub service: ServiceSettings,
    pub database: DatabaseSettings,
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
            service: ServiceSettings::new(SERVICE, 3007),
            database: DatabaseSettings::new("audit"),
            relay: RelaySettings::default(),
            audit: AuditSettings::default(),
        }
    }
}

shared::service_settings!(Config, [("DATABASE_URL", "database.url")]);
