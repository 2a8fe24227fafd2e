//! The caller of a request, once its token is verified.

use super::roles::Role;
use crate::http::ApiError;
use axum::{extract::FromRequestParts, http::request::Parts};
use std::collections::BTreeSet;

/// Who calls (`sub`, recorded as the actor of what it does), with which roles, and the
/// customer or agent it is, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub subject: String,
    pub roles: BTreeSet<Role>,
    pub customer_id: Option<String>,
    pub agent_id: Option<String>,
}

impl Principal {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn has_any(&self, roles: &[Role]) -> bool {
        roles.iter().any(|role| self.has(*role))
    }
}

/// The principal the access middleware put on the request. A handler that takes one on a
/// route the middleware does not guard is a bug, answered 500 rather than served anonymously.
impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| ApiError::internal(UnguardedRoute))
    }
}

#[derive(Debug, thiserror::Error)]
#[error("a handler asked for the caller on an unguarded route")]
struct UnguardedRoute;
