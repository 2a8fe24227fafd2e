//! The keys tokens are checked with: one static key (an HS256 secret, or a PEM public key),
//! or the identity provider's JWKS, fetched and cached by key id.

use super::settings::AuthSettings;
use jsonwebtoken::{
    jwk::{AlgorithmParameters, EllipticCurve, JwkSet},
    Algorithm, DecodingKey,
};
use std::{
    collections::HashMap,
    time::{Duration, Instant},
};
use tokio::sync::Mutex;

/// A token naming a key not in the cache fetches the JWKS again, but not more often than
/// this: a stream of made-up key ids must not become a stream of requests to the provider.
const MIN_REFETCH: Duration = Duration::from_secs(10);

pub enum Keys {
    /// One key, one algorithm: a token signed with any other algorithm is refused.
    Static(DecodingKey, Algorithm),
    Jwks(Jwks),
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("auth: no key is configured; set APP_AUTH__HS256_SECRET (local), APP_AUTH__PUBLIC_KEY_PEM, APP_AUTH__PUBLIC_KEY_PATH or APP_AUTH__JWKS_URL")]
    NoneConfigured,
    #[error("auth: the HS256 secret is shorter than 32 bytes")]
    WeakSecret,
    #[error("auth: cannot read the public key file {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("auth: the public key is neither an RSA nor an EC P-256 PEM public key")]
    Pem,
}

impl Keys {
    /// The key source `settings` name (see [`AuthSettings`] for the order).
    pub async fn from_settings(settings: &AuthSettings) -> Result<Keys, KeyError> {
        if let Some(url) = settings.jwks_url.as_deref().filter(|u| !u.is_empty()) {
            let jwks = Jwks::new(url.to_owned(), settings.jwks_refresh);
            if let Err(error) = jwks.refresh().await {
                // The provider may be down for a moment; tokens are refused (503) until it
                // answers, and the service still starts.
                tracing::warn!(%error, url, "auth: the JWKS could not be fetched at start");
            }
            return Ok(Keys::Jwks(jwks));
        }
        let pem = match (&settings.public_key_pem, &settings.public_key_path) {
            (Some(pem), _) if !pem.is_empty() => Some(pem.clone()),
            (_, Some(path)) if !path.is_empty() => Some(std::fs::read_to_string(path).map_err(
                |source| KeyError::File {
                    path: path.clone(),
                    source,
                },
            )?),
            _ => None,
        };
        if let Some(pem) = pem {
            return static_pem(pem.as_bytes());
        }
        match &settings.hs256_secret {
            Some(secret) if secret.0.len() >= 32 => Ok(Keys::Static(
                DecodingKey::from_secret(secret.0.as_bytes()),
                Algorithm::HS256,
            )),
            Some(secret) if !secret.0.is_empty() => Err(KeyError::WeakSecret),
            _ => Err(KeyError::NoneConfigured),
        }
    }

    /// The key and algorithm for a token whose header names `kid`; `None` if no key fits.
    pub async fn find(
        &self,
        kid: Option<&str>,
    ) -> Result<Option<(DecodingKey, Algorithm)>, JwksError> {
        match self {
            Keys::Static(key, algorithm) => Ok(Some((key.clone(), *algorithm))),
            Keys::Jwks(jwks) => jwks.find(kid).await,
        }
    }
}

fn static_pem(pem: &[u8]) -> Result<Keys, KeyError> {
    if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
        return Ok(Keys::Static(key, Algorithm::RS256));
    }
    if let Ok(key) = DecodingKey::from_ec_pem(pem) {
        return Ok(Keys::Static(key, Algorithm::ES256));
    }
    Err(KeyError::Pem)
}

#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("fetching the JWKS: {0}")]
    Fetch(#[from] reqwest::Error),
    #[error("the JWKS has not been fetched yet, or has no usable key")]
    NoKeys,
}

/// The provider's keys by `kid`, fetched again every `refresh`, or when a token names an
/// unknown key (at most every [`MIN_REFETCH`]).
pub struct Jwks {
    url: String,
    refresh: Duration,
    client: reqwest::Client,
    cache: Mutex<Cache>,
}

#[derive(Default)]
struct Cache {
    keys: HashMap<String, (DecodingKey, Algorithm)>,
    fetched_at: Option<Instant>,
}

impl Jwks {
    fn new(url: String, refresh: Duration) -> Self {
        Self {
            url,
            refresh,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
            cache: Mutex::new(Cache::default()),
        }
    }

    async fn refresh(&self) -> Result<(), JwksError> {
        let mut cache = self.cache.lock().await;
        self.fetch_into(&mut cache).await
    }

    async fn fetch_into(&self, cache: &mut Cache) -> Result<(), JwksError> {
        // Even a failed fetch counts, so that a provider that is down is not hammered.
        cache.fetched_at = Some(Instant::now());
        let set: JwkSet = self
            .client
            .get(&self.url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        cache.keys = usable_keys(&set);
        Ok(())
    }

    async fn find(&self, kid: Option<&str>) -> Result<Option<(DecodingKey, Algorithm)>, JwksError> {
        let Some(kid) = kid else { return Ok(None) };
        let mut cache = self.cache.lock().await;
        let age = cache.fetched_at.map(|at| at.elapsed());
        let stale = age.is_none_or(|age| age >= self.refresh);
        let unknown_may_refetch =
            !cache.keys.contains_key(kid) && age.is_none_or(|age| age >= MIN_REFETCH);
        if stale || unknown_may_refetch {
            if let Err(error) = self.fetch_into(&mut cache).await {
                if cache.keys.is_empty() {
                    return Err(error);
                }
                // Keep answering with the keys we have; the next refresh tries again.
                tracing::warn!(%error, url = %self.url, "auth: the JWKS could not be refreshed");
            }
        }
        if cache.keys.is_empty() {
            // Nothing to check against: the provider's fault (or ours), not the caller's.
            return Err(JwksError::NoKeys);
        }
        Ok(cache.keys.get(kid).cloned())
    }
}

/// The RS256 and ES256 (P-256) keys of `set` that have a `kid`; others are skipped.
fn usable_keys(set: &JwkSet) -> HashMap<String, (DecodingKey, Algorithm)> {
    set.keys
        .iter()
        .filter_map(|jwk| {
            let kid = jwk.common.key_id.clone()?;
            let algorithm = match &jwk.algorithm {
                AlgorithmParameters::RSA(_) => Algorithm::RS256,
                AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
                    Algorithm::ES256
                }
                _ => return None,
            };
            let key = DecodingKey::from_jwk(jwk).ok()?;
            Some((kid, (key, algorithm)))
        })
        .collect()
}
