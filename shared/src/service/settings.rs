//! The settings every service has, flattened into each service's own `Config` (the file and
//! the `APP_<SECTION>__<KEY>` variables see one level of sections, as before).

use crate::{
    auth::AuthSettings, config::ConfigError, http::HttpSettings, messaging::BrokerSettings,
    monitoring::MonitorSettings,
};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceSettings {
    /// `LOG_LEVEL`.
    pub log_level: String,
    pub http: HttpSettings,
    /// Bearer tokens: the key they are checked with, issuer and audience (`APP_AUTH__…`).
    pub auth: AuthSettings,
    pub broker: BrokerSettings,
    /// Raises MONITORING_* events (consumer lag, growing DLQs, dependencies down).
    pub monitoring: MonitorSettings,
}

impl ServiceSettings {
    /// The defaults of the service `name`, listening on `port`.
    pub fn new(name: &str, port: u16) -> Self {
        Self {
            log_level: "info".to_owned(),
            http: HttpSettings::on_port(port),
            auth: AuthSettings::default(),
            broker: BrokerSettings {
                service_name: name.to_owned(),
                ..BrokerSettings::default()
            },
            monitoring: MonitorSettings::default(),
        }
    }
}

impl Default for ServiceSettings {
    fn default() -> Self {
        Self::new(&BrokerSettings::default().service_name, 0)
    }
}

/// Makes a struct with a `service: ServiceSettings` field a service's config: it reads the
/// common sections as its own (`config.http`, `config.broker.retry`…, as harnesses and
/// services did before the sections moved here), and `Config::load()` reads it from the
/// environment with the service's own conventional variables (`DATABASE_URL`, …) besides
/// those of every service.
///
/// ```text
/// shared::service_settings!(Config, [("DATABASE_URL", "database.url")]);
/// ```
#[macro_export]
macro_rules! service_settings {
    ($config:ty, [$(($name:literal, $path:literal)),* $(,)?]) => {
        impl $config {
            /// Defaults, then `APP_CONFIG_FILE`, then the environment (`shared::config`).
            pub fn load() -> Result<Self, $crate::config::ConfigError> {
                $crate::service::load(&[$(($name, $path)),*])
            }
        }

        impl ::std::ops::Deref for $config {
            type Target = $crate::service::ServiceSettings;
            fn deref(&self) -> &Self::Target {
                &self.service
            }
        }

        impl ::std::ops::DerefMut for $config {
            fn deref_mut(&mut self) -> &mut Self::Target {
                &mut self.service
            }
        }
    };
}

/// The conventional variables every service reads, and the settings they set.
const ALIASES: &[(&str, &str)] = &[
    ("PORT", "http.port"),
    ("CORRELATION_ID_HEADER", "http.correlation_header"),
    ("RABBITMQ_URL", "broker.url"),
    ("LOG_LEVEL", "log_level"),
];

/// Loads a service's config from the process environment (see [`crate::config`]): the
/// conventional variables of every service, plus the service's `own` aliases
/// (`DATABASE_URL`, `SMTP_HOST`, …).
pub fn load<T>(own: &[(&str, &str)]) -> Result<T, ConfigError>
where
    T: Serialize + DeserializeOwned + Default,
{
    let aliases: Vec<(&str, &str)> = ALIASES.iter().chain(own).copied().collect();
    crate::config::load(&aliases)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_from;
    use std::collections::HashMap;

    /// A service's config as the services write theirs: its own sections beside the
    /// flattened common ones.
    #[derive(Debug, Default, Serialize, Deserialize)]
    #[serde(default)]
    struct Config {
        #[serde(flatten)]
        service: ServiceSettings,
        own: Own,
    }

    #[derive(Debug, Default, Serialize, Deserialize)]
    #[serde(default)]
    struct Own {
        size: u32,
    }

    fn load_with(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let aliases: Vec<(&str, &str)> = ALIASES.to_vec();
        load_from(None, &vars, &aliases)
    }

    #[test]
    fn the_conventional_variables_and_the_sections_reach_the_common_settings() {
        let config = load_with(&[
            ("PORT", "4100"),
            ("RABBITMQ_URL", "amqp://rabbit:5672/%2f"),
            ("LOG_LEVEL", "debug"),
            ("APP_BROKER__PREFETCH", "7"),
            ("APP_MONITORING__ENABLED", "false"),
            ("APP_OWN__SIZE", "3"),
        ])
        .unwrap();
        assert_eq!(config.service.http.port, 4100);
        assert_eq!(config.service.broker.url, "amqp://rabbit:5672/%2f");
        assert_eq!(config.service.log_level, "debug");
        assert_eq!(config.service.broker.prefetch, 7);
        assert!(!config.service.monitoring.enabled);
        assert_eq!(config.own.size, 3);
    }

    #[test]
    fn a_malformed_common_setting_is_a_clear_error() {
        let error = load_with(&[("PORT", "http")]).unwrap_err();
        assert!(error.to_string().contains("\"http\""), "{error}");
    }
}
