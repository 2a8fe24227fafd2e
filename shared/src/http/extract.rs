//! Extractors whose rejections are JSON errors in the shape of [`ApiError`].
//!
//! A body is read in three steps, so the answer names the first thing wrong with it:
//! its syntax (malformed JSON is a 400, whatever the fields), then its text (a `\u0000` is a
//! 400: PostgreSQL cannot store one), then its shape (missing or unknown fields, wrong types:
//! a 422 with the path of the offending field). A wrong content type is a 415; an oversized
//! body a 413.

use super::error::ApiError;
use axum::{
    body::Bytes,
    extract::{
        rejection::{BytesRejection, PathRejection, QueryRejection},
        FromRequest, FromRequestParts, Request,
    },
    http::{header, request::Parts, HeaderMap, StatusCode},
};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

/// `axum::Json` with JSON errors, and the syntax checked before the shape.
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !has_json_content_type(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "expected a body with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        parse_body(&bytes).map(Json)
    }
}

/// Answers with the value as JSON, like `axum::Json`.
impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

/// A JSON body that may be left out, for commands that need no data: an empty body, or
/// `null`, is the default value; anything else is read as [`Json`] reads it. The content type
/// is not required, since a client sending nothing often sends none.
pub struct OptionalJson<T>(pub T);

impl<T, S> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        let text = bytes.trim_ascii();
        if text.is_empty() || text == b"null" {
            return Ok(Self(T::default()));
        }
        parse_body(text).map(Self)
    }
}

/// The body as a `T`: syntax (400), then text (400), then shape (422).
pub fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED_JSON",
            format!("the body is not valid JSON: {error}"),
        )
    })?;
    if let Some(at) = nul_in(&value, String::new()) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_CHARACTER",
            format!("{at}: text may not contain U+0000"),
        )
        .with_details(json!({ "field": at })));
    }
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        ApiError::validation(&path, error.into_inner().to_string())
    })
}

/// The path (`customer.name`, `ids[2]`) of the first string or key holding a NUL.
fn nul_in(value: &Value, at: String) -> Option<String> {
    let label = |at: &str| {
        if at.is_empty() {
            ".".to_owned()
        } else {
            at.to_owned()
        }
    };
    match value {
        Value::String(text) if text.contains('\0') => Some(label(&at)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_in(item, format!("{at}[{i}]"))),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let here = if at.is_empty() {
                key.clone()
            } else {
                format!("{at}.{key}")
            };
            if key.contains('\0') {
                Some(label(&at))
            } else {
                nul_in(item, here)
            }
        }),
        _ => None,
    }
}

/// `application/json`, or a `+json` type, with any parameters.
fn has_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn body_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            "the request body is too large",
        )
    } else {
        ApiError::new(rejection.status(), "BAD_REQUEST", rejection.body_text())
    }
}

/// `axum::extract::Query` with JSON errors.
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(query_rejection(rejection)),
        }
    }
}

fn query_rejection(rejection: QueryRejection) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "INVALID_QUERY",
        rejection.body_text(),
    )
}

/// `axum::extract::Path` with JSON errors.
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection) => Err(path_rejection(rejection)),
        }
    }
}

fn path_rejection(rejection: PathRejection) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "INVALID_PATH",
        rejection.body_text(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Assign {
        agent_id: String,
        tags: Option<Vec<String>>,
    }

    fn code(body: &str) -> (StatusCode, &'static str) {
        let error = parse_body::<Assign>(body.as_bytes()).unwrap_err();
        (error.status, error.code)
    }

    #[test]
    fn broken_syntax_is_a_400_even_when_a_field_is_unknown() {
        assert_eq!(
            code(r#"{"title": "unterminated"#),
            (StatusCode::BAD_REQUEST, "MALFORMED_JSON")
        );
        assert_eq!(code(""), (StatusCode::BAD_REQUEST, "MALFORMED_JSON"));
    }

    #[test]
    fn a_nul_anywhere_in_the_text_is_a_400_naming_where() {
        let error =
            parse_body::<Assign>(br#"{"agent_id": "a", "tags": ["x", "b\u0000"]}"#).unwrap_err();
        assert_eq!(
            (error.status, error.code),
            (StatusCode::BAD_REQUEST, "INVALID_CHARACTER")
        );
        assert!(error.message.starts_with("tags[1]:"), "{}", error.message);
        assert_eq!(
            code(r#"{"a\u0000": 1}"#),
            (StatusCode::BAD_REQUEST, "INVALID_CHARACTER")
        );
    }

    #[test]
    fn well_formed_json_of_the_wrong_shape_is_a_422_naming_the_field() {
        let error = parse_body::<Assign>(br#"{"agent_id": "a", "tags": [1]}"#).unwrap_err();
        assert_eq!(
            (error.status, error.code),
            (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED")
        );
        assert!(error.message.starts_with("tags[0]:"), "{}", error.message);
        assert_eq!(
            code(r#"{"title": "x"}"#),
            (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED")
        );
        assert!(parse_body::<Assign>(br#"{"agent_id": "a\n"}"#).is_ok());
    }
}
