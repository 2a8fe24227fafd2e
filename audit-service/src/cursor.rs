//! Opaque page cursors: where the next page starts, as a token clients pass back untouched.
//!
//! A cursor is the hex encoding of a short text naming the last entry of the page: `s:<seq>`
//! for lists in sequence order, `t:<micros>:<seq>` for lists in time order. The encoding only
//! keeps clients from building cursors by hand; a forged one is merely another valid position.

use chrono::{DateTime, Utc};

/// The position after which a page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// After this sequence (in the list's direction).
    Sequence(i64),
    /// After this (timestamp, sequence).
    Time { at: DateTime<Utc>, sequence: i64 },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the cursor is not one this service handed out")]
pub struct InvalidCursor;

impl Cursor {
    pub fn encode(&self) -> String {
        let text = match self {
            Cursor::Sequence(sequence) => format!("s:{sequence}"),
            Cursor::Time { at, sequence } => format!("t:{}:{sequence}", at.timestamp_micros()),
        };
        hex::encode(text)
    }

    pub fn decode(token: &str) -> Result<Self, InvalidCursor> {
        let bytes = hex::decode(token).map_err(|_| InvalidCursor)?;
        let text = String::from_utf8(bytes).map_err(|_| InvalidCursor)?;
        let number = |s: &str| s.parse::<i64>().map_err(|_| InvalidCursor);
        match text.split(':').collect::<Vec<_>>().as_slice() {
            ["s", sequence] => Ok(Cursor::Sequence(number(sequence)?)),
            ["t", micros, sequence] => Ok(Cursor::Time {
                at: DateTime::from_timestamp_micros(number(micros)?).ok_or(InvalidCursor)?,
                sequence: number(sequence)?,
            }),
            _ => Err(InvalidCursor),
        }
    }

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
            &hex::encode("s:x"),
            &hex::encode("q:1"),
            &hex::encode("t:1"),
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
