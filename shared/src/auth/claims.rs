//! The claims of the suite's tokens, as signed and as read.

use serde::{Deserialize, Serialize};

/// `sub`, `roles`, optionally `customerId` or `agentId`, and the registered claims the
/// verifier checks (`iss`, `aud`, `exp`, `nbf`; seconds since the epoch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Claims {
    pub sub: String,
    /// Role names; names this build does not know are ignored (a newer issuer may add some).
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    pub iss: String,
    pub aud: String,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
}
