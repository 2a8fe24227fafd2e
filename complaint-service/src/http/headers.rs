//! The request headers of the complaint API, parsed once: `If-Match` (the version a client
//! expects), `Idempotency-Key` (create) and `X-Min-Version` (reads).

use axum::{
    extract::FromRequestParts,
    http::{request::Parts, HeaderMap},
};
use shared::http::ApiError;

use crate::error::ServiceError;

pub const IF_MATCH: &str = "if-match";
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
pub const MIN_VERSION: &str = "x-min-version";
pub const REPLAYED: &str = "idempotent-replayed";

const MAX_IDEMPOTENCY_KEY: usize = 255;

/// The headers every command reads. Who acts is never a header: it is the bearer token's
/// `sub` (`shared::auth::Principal`).
#[derive(Debug, Default)]
pub struct CommandHeaders {
    pub expected_version: Option<i64>,
}

impl<S: Send + Sync> FromRequestParts<S> for CommandHeaders {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let headers = &parts.headers;
        Ok(Self {
            expected_version: header(headers, IF_MATCH)?
                .map(parse_if_match)
                .transpose()?
                .flatten(),
        })
    }
}

/// `Idempotency-Key`, if sent.
#[derive(Debug)]
pub struct IdempotencyKeyHeader(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKeyHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let key = header(&parts.headers, IDEMPOTENCY_KEY)?
            .map(|raw| token("Idempotency-Key", raw, MAX_IDEMPOTENCY_KEY))
            .transpose()?;
        Ok(Self(key))
    }
}

/// `X-Min-Version`, if sent (the same as the `minVersion` query parameter).
#[derive(Debug)]
pub struct MinVersionHeader(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for MinVersionHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let version = header(&parts.headers, MIN_VERSION)?
            .map(|raw| {
                raw.trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|v| *v >= 0)
                    .ok_or_else(|| {
                        ServiceError::bad_header("X-Min-Version", "must be a version number")
                    })
            })
            .transpose()?;
        Ok(Self(version))
    }
}

/// The `ETag` of a complaint at `version`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

fn header<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<Option<&'a str>, ServiceError> {
    headers
        .get(name)
        .map(|value| {
            value
                .to_str()
                .map_err(|_| ServiceError::bad_header(name, "must be visible ASCII"))
        })
        .transpose()
}

/// `If-Match: 3`, `"3"` or `W/"3"` expect version 3; `*` expects nothing in particular.
pub fn parse_if_match(raw: &str) -> Result<Option<i64>, ServiceError> {
    let raw = raw.trim();
    if raw == "*" {
        return Ok(None);
    }
    let tag = raw.strip_prefix("W/").unwrap_or(raw);
    let tag = tag
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(tag);
    tag.parse::<i64>()
        .ok()
        .filter(|v| *v >= 0)
        .map(Some)
        .ok_or_else(|| {
            ServiceError::bad_header(
                "If-Match",
                "must be the complaint's version, as in its ETag (\"3\") or plain (3)",
            )
        })
}

/// A non-empty value without spaces or control characters, of a bounded length.
fn token(name: &'static str, raw: &str, max: usize) -> Result<String, ServiceError> {
    let value = raw.trim();
    if value.is_empty() || value.len() > max {
        return Err(ServiceError::bad_header(
            name,
            format!("must have 1 to {max} characters"),
        ));
    }
    if !value.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ServiceError::bad_header(
            name,
            "must be visible ASCII without spaces",
        ));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_takes_a_plain_quoted_or_weak_version() {
        assert_eq!(parse_if_match("3").unwrap(), Some(3));
        assert_eq!(parse_if_match("\"3\"").unwrap(), Some(3));
        assert_eq!(parse_if_match(" W/\"12\" ").unwrap(), Some(12));
        assert_eq!(parse_if_match("*").unwrap(), None);
        for bad in ["", "abc", "\"-1\"", "\"1\", \"2\"", "1.5"] {
            assert!(parse_if_match(bad).is_err(), "{bad}");
        }
        assert_eq!(etag(7), "\"7\"");
    }

    #[test]
    fn tokens_are_bounded_visible_ascii() {
        assert_eq!(token("X", " agent-7 ", 10).unwrap(), "agent-7");
        assert!(token("X", "", 10).is_err());
        assert!(token("X", "a b", 10).is_err());
        assert!(token("X", &"a".repeat(11), 10).is_err());
    }
}
