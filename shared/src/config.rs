//! Layered settings: the type's defaults, then an optional JSON file named by
//! `APP_CONFIG_FILE`, then environment variables. An environment variable is either
//! `APP_<SECTION>__<KEY>` (`APP_BROKER__PREFETCH=50`) or one of the conventional names a
//! service maps to a path (`DATABASE_URL` -> `database.url`), so the same variables work in
//! compose, CI and a shell.

use serde::{de::DeserializeOwned, Serialize};
use serde_json::{Map, Value};
use std::collections::HashMap;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid JSON: {source}")]
    FileFormat {
        path: String,
        source: serde_json::Error,
    },
    #[error("invalid setting: {0}")]
    Invalid(String),
    /// `path` is the dotted path of the setting, as in `APP_<SECTION>__<KEY>` or the file.
    #[error("invalid setting {path}: {reason}")]
    Setting { path: String, reason: String },
}

/// Loads `T` from the process environment. `aliases` maps conventional variable names to
/// dotted paths in `T`.
pub fn load<T>(aliases: &[(&str, &str)]) -> Result<T, ConfigError>
where
    T: Serialize + DeserializeOwned + Default,
{
    let vars: HashMap<String, String> = std::env::vars().collect();
    let file = match vars.get("APP_CONFIG_FILE") {
        Some(path) => Some(read_file(path)?),
        None => None,
    };
    load_from(file, &vars, aliases)
}

fn read_file(path: &str) -> Result<Value, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::File {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| ConfigError::FileFormat {
        path: path.to_owned(),
        source,
    })
}

/// The layering itself, apart from the process environment so it can be tested.
pub fn load_from<T>(
    file: Option<Value>,
    vars: &HashMap<String, String>,
    aliases: &[(&str, &str)],
) -> Result<T, ConfigError>
where
    T: Serialize + DeserializeOwned + Default,
{
    let mut merged =
        serde_json::to_value(T::default()).map_err(|e| ConfigError::Invalid(e.to_string()))?;
    if let Some(file) = file {
        merge(&mut merged, file);
    }
    for (name, path) in aliases {
        if let Some(value) = vars.get(*name) {
            set_path(&mut merged, path, value);
        }
    }
    for (name, value) in vars {
        if let Some(rest) = name.strip_prefix("APP_") {
            if rest == "CONFIG_FILE" {
                continue;
            }
            let path = rest.to_lowercase().replace("__", ".");
            set_path(&mut merged, &path, value);
        }
    }
    serde_path_to_error::deserialize(merged).map_err(|e| ConfigError::Setting {
        path: e.path().to_string(),
        reason: e.inner().to_string(),
    })
}

fn merge(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Object(base), Value::Object(overlay)) => {
            for (key, value) in overlay {
                merge(base.entry(key).or_insert(Value::Null), value);
            }
        }
        (base, overlay) => *base = overlay,
    }
}

/// Sets `path` to `raw`, typed like the value already there: a number or a boolean where the
/// default is one, a string otherwise (so a password of digits stays a string).
fn set_path(root: &mut Value, path: &str, raw: &str) {
    let mut node = root;
    let mut keys = path.split('.').peekable();
    while let Some(key) = keys.next() {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let Value::Object(map) = node else { return };
        let slot = map.entry(key.to_owned()).or_insert(Value::Null);
        if keys.peek().is_none() {
            *slot = typed_like(slot, raw);
            return;
        }
        node = slot;
    }
}

fn typed_like(existing: &Value, raw: &str) -> Value {
    match existing {
        Value::Number(_) | Value::Bool(_) => {
            serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()))
        }
        _ => Value::String(raw.to_owned()),
    }
}

/// A secret setting: serialized as is (settings are layered through JSON), never shown by
/// `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Durations in settings are whole milliseconds.
pub mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(default)]
    struct Settings {
        port: u16,
        database: Database,
    }

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(default)]
    struct Database {
        url: String,
        password: String,
        pool: u32,
    }

    impl Default for Settings {
        fn default() -> Self {
            Self {
                port: 3005,
                database: Database::default(),
            }
        }
    }

    impl Default for Database {
        fn default() -> Self {
            Self {
                url: "postgres://localhost/db".into(),
                password: "secret".into(),
                pool: 8,
            }
        }
    }

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let s: Settings = load_from(None, &vars(&[]), &[]).unwrap();
        assert_eq!(s, Settings::default());
    }

    #[test]
    fn a_file_overrides_defaults_and_the_environment_overrides_the_file() {
        let file = serde_json::json!({"port": 4000, "database": {"pool": 2}});
        let s: Settings = load_from(
            Some(file),
            &vars(&[("APP_PORT", "5000"), ("DATABASE_URL", "postgres://db/x")]),
            &[("DATABASE_URL", "database.url")],
        )
        .unwrap();
        assert_eq!(s.port, 5000);
        assert_eq!(s.database.pool, 2);
        assert_eq!(s.database.url, "postgres://db/x");
    }

    #[test]
    fn a_string_setting_of_digits_stays_a_string() {
        let s: Settings =
            load_from(None, &vars(&[("APP_DATABASE__PASSWORD", "1234")]), &[]).unwrap();
        assert_eq!(s.database.password, "1234");
    }

    #[test]
    fn a_malformed_number_is_a_clear_error() {
        let error = load_from::<Settings>(None, &vars(&[("APP_PORT", "http")]), &[]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid setting port: invalid type: string \"http\", expected u16"
        );
    }

    #[test]
    fn a_malformed_nested_setting_is_named_by_its_path() {
        let error =
            load_from::<Settings>(None, &vars(&[("APP_DATABASE__POOL", "many")]), &[]).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("invalid setting database.pool: "),
            "{error}"
        );
    }
}
