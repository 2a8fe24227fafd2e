//! Control characters (C0 and DEL) in a request's path or query are refused here, once for
//! every route of every service: no handler, database or log line downstream has to think about
//! a NUL byte (PostgreSQL refuses one in text with a 500-worthy error) or an escape sequence.
//!
//! A URI cannot carry a control byte raw (the HTTP parser refuses it), only percent-encoded;
//! so looking at every `%XX` is enough. Bytes of multi-byte UTF-8 characters are all ≥ 0x80,
//! so a byte-wise look never mistakes part of a character for a control.

use super::error::ApiError;
use axum::{
    extract::Request,
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde_json::json;

/// Middleware: 400 `INVALID_CHARACTER` when the path or query holds a control character.
pub async fn refuse(request: Request, next: Next) -> Response {
    let uri = request.uri();
    if let Some(part) = [("path", Some(uri.path())), ("query", uri.query())]
        .into_iter()
        .find_map(|(part, text)| text.filter(|t| has_encoded_control(t)).map(|_| part))
    {
        return refusal(part).into_response();
    }
    next.run(request).await
}

fn refusal(part: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "INVALID_CHARACTER",
        format!(
            "the {part} holds a control character (U+0000 to U+001F, or U+007F); \
             no parameter may contain one"
        ),
    )
    .with_details(json!({ "part": part }))
}

/// Whether `text` (a raw path or query) holds a control byte, raw or as `%XX`.
fn has_encoded_control(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().any(|(at, &byte)| {
        is_control(byte)
            || (byte == b'%'
                && bytes
                    .get(at + 1..at + 3)
                    .and_then(|hex| std::str::from_utf8(hex).ok())
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                    .is_some_and(is_control))
    })
}

/// C0 controls and DEL.
pub fn is_control(byte: u8) -> bool {
    byte < 0x20 || byte == 0x7f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoded_controls_are_found_anywhere() {
        for text in [
            "/api/agents/%00",
            "customer=%00",
            "q=a%0Ab",
            "x=%7f",
            "x=%1F&y=1",
            "a%09",
        ] {
            assert!(has_encoded_control(text), "{text}");
        }
    }

    #[test]
    fn ordinary_and_non_ascii_text_passes() {
        for text in [
            "/api/agents/agent-001",
            "q=caf%C3%A9",
            "q=%C2%89",
            "x=%20%7E%25",
            "q=100%",
            "q=%2",
            "q=%zz",
        ] {
            assert!(!has_encoded_control(text), "{text}");
        }
    }
}
