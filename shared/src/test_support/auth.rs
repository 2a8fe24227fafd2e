//! Tokens for tests: every test service is configured with [`settings`], and the harnesses'
//! `request` helpers send [`operator_token`] unless a test sends its own `Authorization`.

use crate::auth::{
    mint::{mint, TokenSpec},
    AuthSettings, Role,
};

/// The HS256 secret of every test service (not a secret: tests only).
pub const SECRET: &str = "test-secret-of-the-complaint-suite-0123456789";

/// The `auth` settings of a test service.
pub fn settings() -> AuthSettings {
    AuthSettings::hs256(SECRET)
}

/// A token for `spec`, valid for the test services.
pub fn token(spec: &TokenSpec) -> String {
    mint(spec, &settings())
}

/// A token with one role and no customer or agent id.
pub fn token_for(role: Role) -> String {
    token(&TokenSpec::new(format!("test-{role}"), &[role]))
}

/// Every role, subject `test-operator`: allowed everything the existing tests do.
pub fn operator_token() -> String {
    token(&TokenSpec::new("test-operator", &Role::ALL))
}

/// `Bearer <token>`, the value of an `Authorization` header.
pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Whether a test already chose its own `Authorization` header (or none, with an empty one).
pub fn sets_authorization(headers: &[(&str, &str)]) -> bool {
    headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("authorization"))
}

/// An HTTP client that sends [`operator_token`] on every request, unless the request sets
/// its own `Authorization`.
pub fn client() -> reqwest::Client {
    client_with(&operator_token())
}

/// An HTTP client that sends `token` on every request, unless the request sets its own.
pub fn client_with(token: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .default_headers(headers_with(token))
        .build()
        .unwrap_or_default()
}

/// The default headers of a client acting with `token`: its `Authorization`.
pub fn headers_with(token: &str) -> reqwest::header::HeaderMap {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Ok(value) = reqwest::header::HeaderValue::from_str(&bearer(token)) {
        headers.insert(reqwest::header::AUTHORIZATION, value);
    }
    headers
}

/// The columns of an authorization matrix: each role, then no token at all.
pub const CALLERS: [&str; 6] = [
    "customer",
    "agent",
    "supervisor",
    "auditor",
    "admin",
    "none",
];

/// The `Authorization` value of a matrix column: a token of that one role (the customer is
/// `customer`, the agent `agent`), or an empty header for `none`.
pub fn header_for(caller: &str, customer: &str, agent: &str) -> String {
    let spec = match caller {
        "customer" => TokenSpec::new(customer, &[Role::Customer]).customer(customer),
        "agent" => TokenSpec::new(agent, &[Role::Agent]).agent(agent),
        "none" => return String::new(),
        role => match Role::parse(role) {
            Some(role) => TokenSpec::new(format!("test-{role}"), &[role]),
            None => return String::new(),
        },
    };
    bearer(&token(&spec))
}
