//! The audit lists' page cursors: where the next page starts, after the last entry of a page,
//! in the lists' sequence order or time order (the token itself: `shared::http::cursor`).

use chrono::{DateTime, Utc};
use shared::http::cursor::{parse_time, time_field};
pub use shared::http::cursor::{InvalidCursor, Keyset};

/// The position after which a page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// After this sequence (in the list's direction).
    Sequence(i64),
    /// After this (timestamp, sequence).
    Time { at: DateTime<Utc>, sequence: i64 },
}

/// `s|<seq>` for lists in sequence order, `t|<micros>|<seq>` for lists in time order (the
/// token is their hex, see `shared::http::cursor`).
impl Keyset for Cursor {
    fn fields(&self) -> Vec<String> {
        match self {
            Cursor::Sequence(sequence) => vec!["s".to_owned(), sequence.to_string()],
            Cursor::Time { at, sequence } => {
                vec!["t".to_owned(), time_field(*at), sequence.to_string()]
            }
        }
    }

    fn from_fields(fields: &[&str]) -> Option<Self> {
        match fields {
            ["s", sequence] => Some(Cursor::Sequence(sequence.parse().ok()?)),
            ["t", micros, sequence] => Some(Cursor::Time {
                at: parse_time(micros)?,
                sequence: sequence.parse().ok()?,
            }),
            _ => None,
        }
    }
}

impl Cursor {
    /// The sequence of a sequence cursor; a time cursor does not fit such a list.
    pub fn sequence(self) -> Result<i64, InvalidCursor> {
        match self {
            Cursor::Sequence(sequence) => Ok(sequence),
            Cursor::Time { .. } => Err(InvalidCursor),
        }
    }

    /// The position of a time cursor; a sequence cursor does not fit such a list.
    pub fn time(self) -> Result<(DateTime<Utc>, i64), InvalidCursor> {
        match self {
            Cursor::Time { at, sequence } => Ok((at, sequence)),
            Cursor::Sequence(_) => Err(InvalidCursor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let at: DateTime<Utc> = "2024-05-01T10:00:00.123456Z".parse().unwrap();
        for cursor in [Cursor::Sequence(42), Cursor::Time { at, sequence: 7 }] {
            assert_eq!(Cursor::decode(&cursor.encode()), Ok(cursor));
        }
    }

    #[test]
    fn a_cursor_is_opaque_hex() {
        let token = Cursor::Sequence(42).encode();
        assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(!token.contains("42"));
    }

    #[test]
    fn garbage_is_refused() {
        for token in [
            "",
            "zz",
            "42",
            &hex::encode("s|x"),
            &hex::encode("q|1"),
            &hex::encode("t|1"),
        ] {
            assert_eq!(Cursor::decode(token), Err(InvalidCursor), "{token:?}");
        }
    }

    #[test]
    fn a_cursor_of_another_kind_of_list_is_refused() {
        assert_eq!(Cursor::Sequence(1).time(), Err(InvalidCursor));
        assert!(Cursor::decode(&Cursor::Sequence(1).encode())
            .unwrap()
            .sequence()
            .is_ok());
    }
}
