//! `auth` settings of every service (`APP_AUTH__…`).

use crate::config::{millis, Secret};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Where the keys that sign tokens come from, and what a token must say of itself. Exactly
/// one key source is used, the first set of: `jwks_url`, `public_key_pem`,
/// `public_key_path`, `hs256_secret`. None set stops the service at start: it never serves
/// unauthenticated.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// The shared secret of HS256 tokens (local runs: `.run/jwt-secret`,
    /// `APP_AUTH__HS256_SECRET`).
    pub hs256_secret: Option<Secret>,
    /// A PEM public key (RSA or EC P-256) of RS256 or ES256 tokens, as text…
    pub public_key_pem: Option<String>,
    /// …or as a file.
    pub public_key_path: Option<String>,
    /// The identity provider's JWKS (RS256/ES256 keys by `kid`), fetched at start and again
    /// every `jwks_refresh`, or sooner when a token names a key not seen yet.
    pub jwks_url: Option<String>,
    #[serde(with = "millis")]
    pub jwks_refresh: Duration,
    /// `iss` every token must carry.
    pub issuer: String,
    /// `aud` every token must carry.
    pub audience: String,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    pub leeway_seconds: u64,
}

pub const ISSUER: &str = "complaint-suite";
pub const AUDIENCE: &str = "complaint-api";

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            hs256_secret: None,
            public_key_pem: None,
            public_key_path: None,
            jwks_url: None,
            jwks_refresh: Duration::from_secs(300),
            issuer: ISSUER.to_owned(),
            audience: AUDIENCE.to_owned(),
            leeway_seconds: 30,
        }
    }
}

impl AuthSettings {
    /// Local settings with an HS256 `secret` (tests, `make token`).
    pub fn hs256(secret: impl Into<String>) -> Self {
        Self {
            hs256_secret: Some(Secret(secret.into())),
            ..Self::default()
        }
    }
}
