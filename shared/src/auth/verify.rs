//! A bearer token to a [`Principal`], or the reason it is refused.

use super::{
    claims::Claims,
    keys::{KeyError, Keys},
    principal::Principal,
    roles::Role,
    settings::AuthSettings,
};
use jsonwebtoken::{decode, decode_header, Validation};

/// Why a request is not authenticated. Every variant but `KeysUnavailable` is a 401; the
/// messages say what was wrong with the token, never anything about the keys.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token: send Authorization: Bearer <token>")]
    Missing,
    #[error("the token is malformed or uses an algorithm this service does not accept")]
    Malformed,
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token's issuer or audience is not this suite's")]
    WrongIssuerOrAudience,
    #[error("the token lacks a required claim or a claim is malformed")]
    BadClaims,
    /// The identity provider's keys could not be fetched: not the caller's fault (503).
    #[error("the keys to verify tokens are unavailable")]
    KeysUnavailable,
}

pub struct Verifier {
    keys: Keys,
    issuer: String,
    audience: String,
    leeway: u64,
}

impl Verifier {
    pub async fn new(settings: &AuthSettings) -> Result<Self, KeyError> {
        Ok(Self {
            keys: Keys::from_settings(settings).await?,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            leeway: settings.leeway_seconds,
        })
    }

    /// Checks the signature with the configured key and its one algorithm (so `alg: none` and
    /// any other algorithm fail), then `exp`, `nbf`, `iss` and `aud`.
    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let header = decode_header(token).map_err(|_| AuthError::Malformed)?;
        let (key, algorithm) = self
            .keys
            .find(header.kid.as_deref())
            .await
            .map_err(|error| {
                tracing::warn!(%error, "auth: no keys to verify a token with");
                AuthError::KeysUnavailable
            })?
            .ok_or(AuthError::BadSignature)?;
        if header.alg != algorithm {
            return Err(AuthError::Malformed);
        }
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = self.leeway;
        let data = decode::<Claims>(token, &key, &validation).map_err(|error| {
            use jsonwebtoken::errors::ErrorKind;
            match error.kind() {
                ErrorKind::InvalidSignature => AuthError::BadSignature,
                ErrorKind::ExpiredSignature => AuthError::Expired,
                ErrorKind::ImmatureSignature => AuthError::NotYetValid,
                ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => {
                    AuthError::WrongIssuerOrAudience
                }
                ErrorKind::MissingRequiredClaim(_) | ErrorKind::Json(_) => AuthError::BadClaims,
                _ => AuthError::Malformed,
            }
        })?;
        principal(data.claims)
    }
}

fn principal(claims: Claims) -> Result<Principal, AuthError> {
    if claims.sub.trim().is_empty() {
        return Err(AuthError::BadClaims);
    }
    Ok(Principal {
        subject: claims.sub,
        roles: claims.roles.iter().filter_map(|r| Role::parse(r)).collect(),
        customer_id: claims.customer_id.filter(|id| !id.is_empty()),
        agent_id: claims.agent_id.filter(|id| !id.is_empty()),
    })
}
