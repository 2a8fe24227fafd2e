//! Opaque page cursors for keyset pagination: the position of a page's last item, as a token
//! clients pass back unchanged for the next page. The token is the hex of the position's
//! fields joined by `|`; the hex only keeps clients from building cursors by hand (a forged
//! one is merely another valid position). Each list names its own position ([`Keyset`]).

use chrono::{DateTime, Utc};

/// Longer tokens are refused before they are decoded.
const MAX_TOKEN_CHARS: usize = 200;
const SEPARATOR: char = '|';

/// A token that is not a cursor of this list: answered 400 `INVALID_CURSOR`
/// ([`super::ApiError::invalid_cursor`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the cursor is not one this service handed out")]
pub struct InvalidCursor;

/// A position in a list, and its token.
pub trait Keyset: Sized {
    /// The fields of the position, in order (none may contain `|`).
    fn fields(&self) -> Vec<String>;

    /// The position from its fields; `None` if they are not one.
    fn from_fields(fields: &[&str]) -> Option<Self>;

    fn encode(&self) -> String {
        hex::encode(self.fields().join(&SEPARATOR.to_string()))
    }

    fn decode(token: &str) -> Result<Self, InvalidCursor> {
        if token.len() > MAX_TOKEN_CHARS {
            return Err(InvalidCursor);
        }
        let bytes = hex::decode(token).map_err(|_| InvalidCursor)?;
        let text = String::from_utf8(bytes).map_err(|_| InvalidCursor)?;
        let fields: Vec<&str> = text.split(SEPARATOR).collect();
        Self::from_fields(&fields).ok_or(InvalidCursor)
    }
}

/// A time as a cursor field: microseconds since the epoch, the precision PostgreSQL keeps.
pub fn time_field(at: DateTime<Utc>) -> String {
    at.timestamp_micros().to_string()
}

/// The time of a field written by [`time_field`].
pub fn parse_time(field: &str) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(field.parse().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A list in time order, ties broken by a number.
    #[derive(Debug, PartialEq)]
    struct After {
        at: DateTime<Utc>,
        sequence: i64,
    }

    impl Keyset for After {
        fn fields(&self) -> Vec<String> {
            vec![time_field(self.at), self.sequence.to_string()]
        }

        fn from_fields(fields: &[&str]) -> Option<Self> {
            let [at, sequence] = fields else { return None };
            Some(Self {
                at: parse_time(at)?,
                sequence: sequence.parse().ok()?,
            })
        }
    }

    fn position() -> After {
        After {
            at: "2024-05-01T10:00:00.123456Z".parse().unwrap(),
            sequence: 42,
        }
    }

    #[test]
    fn a_cursor_round_trips_to_the_microsecond() {
        assert_eq!(After::decode(&position().encode()), Ok(position()));
    }

    #[test]
    fn a_cursor_is_opaque_hex() {
        let token = position().encode();
        assert!(token.chars().all(|c| c.is_ascii_hexdigit()), "{token}");
        assert!(!token.contains("42"), "{token}");
    }

    #[test]
    fn garbage_is_refused() {
        let long = "00".repeat(101);
        for token in [
            "",
            "zz",
            "abc",
            "7c",
            "e282ac",
            &hex::encode("1714557600123456"),
            &hex::encode("x|42"),
            &hex::encode("1714557600123456|42|7"),
            &long,
        ] {
            assert_eq!(After::decode(token), Err(InvalidCursor), "{token:?}");
        }
    }
}
