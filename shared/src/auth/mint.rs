//! Signing tokens like the identity provider would, for local use (`make token`) and tests.
//! Only HS256: production tokens come from the provider, never from this code.

use super::{claims::Claims, roles::Role, settings::AuthSettings};
use jsonwebtoken::{encode, EncodingKey, Header};
use std::time::Duration;

/// What a minted token says.
#[derive(Debug, Clone)]
pub struct TokenSpec {
    pub subject: String,
    pub roles: Vec<Role>,
    pub customer_id: Option<String>,
    pub agent_id: Option<String>,
    pub valid_for: Duration,
}

impl TokenSpec {
    pub fn new(subject: impl Into<String>, roles: &[Role]) -> Self {
        Self {
            subject: subject.into(),
            roles: roles.to_vec(),
            customer_id: None,
            agent_id: None,
            valid_for: Duration::from_secs(12 * 3600),
        }
    }

    pub fn customer(mut self, id: impl Into<String>) -> Self {
        self.customer_id = Some(id.into());
        self
    }

    pub fn agent(mut self, id: impl Into<String>) -> Self {
        self.agent_id = Some(id.into());
        self
    }

    /// The claims of this token issued now for `settings`' issuer and audience.
    pub fn claims(&self, settings: &AuthSettings) -> Claims {
        let now = jsonwebtoken::get_current_timestamp();
        Claims {
            sub: self.subject.clone(),
            roles: self.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            customer_id: self.customer_id.clone(),
            agent_id: self.agent_id.clone(),
            iss: settings.issuer.clone(),
            aud: settings.audience.clone(),
            exp: now + self.valid_for.as_secs(),
            nbf: Some(now),
            iat: Some(now),
        }
    }
}

/// `claims` signed with HS256 and `secret`.
pub fn sign(claims: &Claims, secret: &str) -> String {
    encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    // HS256 with any secret and serializable claims cannot fail.
    .unwrap_or_default()
}

/// A token for `spec`, signed with the HS256 secret of `settings` (empty if none is set).
pub fn mint(spec: &TokenSpec, settings: &AuthSettings) -> String {
    let secret = settings
        .hs256_secret
        .as_ref()
        .map(|s| s.0.as_str())
        .unwrap_or_default();
    sign(&spec.claims(settings), secret)
}
