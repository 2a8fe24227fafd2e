//! Checks on parameters that parse but may still be unacceptable (a 400 each).

use crate::error::{Error, Result};

/// A page size: `default` when absent, between 1 and `max`.
pub fn limit(value: Option<usize>, default: usize, max: usize) -> Result<usize> {
    match value {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(n) => Err(Error::invalid(
            "limit",
            format!("{n} is not between 1 and {max}"),
        )),
    }
}

/// A version number (versions start at 1).
pub fn version(field: &'static str, value: Option<i64>) -> Result<Option<i64>> {
    match value {
        Some(v) if v < 1 => Err(Error::invalid(
            field,
            format!("{v} is not a version (they start at 1)"),
        )),
        other => Ok(other),
    }
}

/// A filter value that, when given, is not blank.
pub fn not_blank(field: &'static str, value: Option<String>) -> Result<Option<String>> {
    match value {
        Some(v) if v.trim().is_empty() => Err(Error::invalid(field, "must not be empty")),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_default_and_stay_in_range() {
        assert_eq!(limit(None, 100, 1000).unwrap(), 100);
        assert_eq!(limit(Some(1000), 100, 1000).unwrap(), 1000);
        assert!(limit(Some(0), 100, 1000).is_err());
        assert!(limit(Some(1001), 100, 1000).is_err());
    }

    #[test]
    fn versions_start_at_one_and_filters_are_not_blank() {
        assert_eq!(version("v", Some(1)).unwrap(), Some(1));
        assert!(version("v", Some(0)).is_err());
        assert!(not_blank("eventType", Some(" ".into())).is_err());
        assert_eq!(not_blank("eventType", None).unwrap(), None);
    }
}
