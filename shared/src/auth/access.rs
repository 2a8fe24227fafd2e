//! Which roles each route admits: a table per service ([`Rule`]s), enforced by one
//! middleware on every route of the service's API ([`Access::guard`]), and written into its
//! OpenAPI document. A route added to a router needs one line in its service's table; a
//! route without one is refused to everybody (and the service will not start if its OpenAPI
//! document lists an operation the table does not).
//!
//! Finer rules that depend on the data (a customer sees only its own complaints, an agent
//! works only on those assigned to it) are the handlers' business, with the [`Principal`]
//! this middleware puts on the request.

use super::{
    principal::Principal,
    roles::Role,
    verify::{AuthError, Verifier},
};
use crate::http::ApiError;
use axum::{
    extract::{MatchedPath, Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::sync::Arc;

/// `methods` (space-separated, e.g. `"PUT PATCH"`) on `path` (the router's template, e.g.
/// `/api/complaints/{id}`) are open to `roles`.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub methods: &'static str,
    pub path: &'static str,
    pub roles: &'static [Role],
}

/// One line of a table: `allow("GET", "/api/complaints", &[Role::Agent, Role::Supervisor])`.
pub const fn allow(methods: &'static str, path: &'static str, roles: &'static [Role]) -> Rule {
    Rule {
        methods,
        path,
        roles,
    }
}

impl Rule {
    fn covers(&self, method: &str) -> bool {
        self.methods.split_whitespace().any(|m| m == method)
    }
}

/// The verifier and a service's table, shared by every request.
#[derive(Clone)]
pub struct Access {
    inner: Arc<Inner>,
}

struct Inner {
    verifier: Verifier,
    rules: Vec<Rule>,
}

impl Access {
    pub fn new(verifier: Verifier, rules: &[Rule]) -> Self {
        Self {
            inner: Arc::new(Inner {
                verifier,
                rules: rules.to_vec(),
            }),
        }
    }

    /// The same verifier with `more` rules (the routes every service shares).
    pub fn with_rules(self, more: &[Rule]) -> Self {
        let inner = Arc::try_unwrap(self.inner).unwrap_or_else(|_| {
            unreachable!("rules are added while the router is built, before any clone")
        });
        let mut rules = inner.rules;
        rules.extend_from_slice(more);
        Self {
            inner: Arc::new(Inner {
                verifier: inner.verifier,
                rules,
            }),
        }
    }

    pub fn rules(&self) -> &[Rule] {
        &self.inner.rules
    }

    /// The roles that may call `method` on `path`; `None` if the table has no line for it.
    pub fn roles_for(&self, method: &str, path: &str) -> Option<&'static [Role]> {
        self.inner
            .rules
            .iter()
            .find(|rule| same_template(rule.path, path) && rule.covers(method))
            .map(|rule| rule.roles)
    }

    /// The middleware (a route layer, so the matched route is known): 401 without a valid
    /// token, 403 when no role of the token is admitted, else the handler runs with the
    /// [`Principal`] in the request's extensions.
    pub async fn guard(State(access): State<Access>, mut request: Request, next: Next) -> Response {
        let Some(path) = request
            .extensions()
            .get::<MatchedPath>()
            .map(|p| p.as_str().to_owned())
        else {
            return next.run(request).await;
        };
        let method = request.method().as_str().to_owned();
        let principal = match bearer(&request) {
            None => return unauthenticated(&AuthError::Missing),
            Some(token) => match access.inner.verifier.verify(token).await {
                Ok(principal) => principal,
                Err(error) => return unauthenticated(&error),
            },
        };
        let known_path = access
            .inner
            .rules
            .iter()
            .any(|rule| same_template(rule.path, &path));
        match access.roles_for(&method, &path) {
            Some(roles) if principal.has_any(roles) => {}
            Some(_) => return forbidden(&principal, &method, &path),
            // A method the route does not serve: the router answers 405.
            None if known_path => {}
            None => {
                tracing::error!(%method, %path, "a route without an access rule; refused");
                return forbidden(&principal, &method, &path);
            }
        }
        request.extensions_mut().insert(principal);
        next.run(request).await
    }
}

fn bearer(request: &Request) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// 401 in the suite's error shape, with the challenge RFC 6750 asks for.
pub fn unauthenticated(error: &AuthError) -> Response {
    if *error == AuthError::KeysUnavailable {
        return ApiError::unavailable("the identity provider's keys").into_response();
    }
    let mut response = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
        error.to_string(),
    )
    .into_response();
    let challenge = if *error == AuthError::Missing {
        r#"Bearer realm="complaint-suite""#
    } else {
        r#"Bearer realm="complaint-suite", error="invalid_token""#
    };
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    response
}

fn forbidden(principal: &Principal, method: &str, path: &str) -> Response {
    tracing::info!(subject = %principal.subject, %method, %path, "forbidden");
    ApiError::forbidden("your roles do not allow this request").into_response()
}

/// Two route templates name the same route whatever their parameters are called
/// (`{saga_id}` in the router, `{sagaId}` in the OpenAPI document).
pub fn same_template(a: &str, b: &str) -> bool {
    let segments = |t: &str| -> Vec<String> {
        t.split('/')
            .map(|s| {
                if s.starts_with('{') {
                    "{}".to_owned()
                } else {
                    s.to_owned()
                }
            })
            .collect()
    };
    segments(a) == segments(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_whatever_their_parameters_are_called() {
        assert!(same_template("/api/sagas/{saga_id}", "/api/sagas/{sagaId}"));
        assert!(!same_template("/api/sagas/{id}", "/api/sagas/{id}/steps"));
        assert!(!same_template(
            "/api/complaints/statistics",
            "/api/complaints/{id}"
        ));
    }
}
