//! What callers may name: Redis streams, consumer groups and consumers, and entry ids. Pure.

use crate::error::{Error, Result};

const MAX_NAME: usize = 128;

/// A stream, group or consumer name: 1 to 128 of `A-Z a-z 0-9 . _ : -`, starting with a letter
/// or digit. Tight on purpose: the name ends up in a Redis key after the configured prefix.
pub fn name(field: &'static str, value: &str) -> Result<String> {
    let ok = !value.is_empty()
        && value.len() <= MAX_NAME
        && value.starts_with(|c: char| c.is_ascii_alphanumeric())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'));
    if ok {
        Ok(value.to_owned())
    } else {
        Err(Error::invalid(
            field,
            format!("{value:?} is not a valid name (1-{MAX_NAME} of A-Z a-z 0-9 . _ : -, starting with a letter or digit)"),
        ))
    }
}

/// A stream entry id, `<ms>-<seq>` or `<ms>`.
pub fn entry_id(field: &'static str, value: &str) -> Result<String> {
    let mut parts = value.splitn(2, '-');
    let digits = |s: &str| !s.is_empty() && s.len() <= 20 && s.chars().all(|c| c.is_ascii_digit());
    let ok = parts.next().is_some_and(digits) && parts.next().is_none_or(digits);
    if ok {
        Ok(value.to_owned())
    } else {
        Err(Error::invalid(
            field,
            format!("{value:?} is not a stream entry id (like 42-0)"),
        ))
    }
}

/// Where a new consumer group starts: `0` (the whole stream), `$` (only new entries) or an id.
pub fn group_start(value: &str) -> Result<String> {
    match value {
        "0" | "$" => Ok(value.to_owned()),
        other => entry_id("startId", other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass_and_odd_ones_do_not() {
        assert!(name("stream", "complaints-stream").is_ok());
        assert!(name("stream", "replay:complaint.1_x").is_ok());
        for bad in ["", "-x", "a b", "a*", "ключ", &"x".repeat(129)] {
            assert!(name("stream", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn entry_ids_are_digits_with_an_optional_sequence() {
        for good in ["1", "42-0", "1700000000000-3"] {
            assert!(entry_id("id", good).is_ok(), "{good}");
        }
        for bad in ["", "-1", "1-", "a-0", "1-0-0", "$"] {
            assert!(entry_id("id", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_group_starts_at_the_beginning_the_end_or_an_id() {
        assert_eq!(group_start("0").unwrap(), "0");
        assert_eq!(group_start("$").unwrap(), "$");
        assert_eq!(group_start("5-0").unwrap(), "5-0");
        assert!(group_start(">").is_err());
    }
}
