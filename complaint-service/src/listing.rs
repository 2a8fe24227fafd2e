//! What a list query asks for, parsed from the query string: filters, text search and the
//! opaque cursor of keyset pagination (newest first). Pure; `store::views` turns it into SQL.

use chrono::{DateTime, Utc};
use shared::{
    complaint::{Priority, Status, ValidationError},
    http::cursor::{parse_time, time_field, Keyset},
};
use uuid::Uuid;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;
const MAX_SEARCH_TERMS: usize = 10;
const MAX_FILTER_CHARS: usize = 200;

/// Which complaints to list. Empty lists and `None` mean "any".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListFilter {
    pub statuses: Vec<Status>,
    pub priorities: Vec<Priority>,
    pub category: Option<String>,
    pub assignee: Option<String>,
    pub customer: Option<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    /// A PostgreSQL `tsquery` (`'word:* & other:*'`) built by [`search_query`].
    pub search: Option<String>,
}

/// Where a page starts: after this complaint in the list's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

/// `OPEN,assigned` → both, each name read by `parse` (`Status::parse_lenient` takes any case).
pub fn parse_list<T>(
    raw: Option<&str>,
    parse: impl Fn(&str) -> Result<T, ValidationError>,
) -> Result<Vec<T>, ValidationError> {
    raw.map_or(Ok(Vec::new()), |raw| {
        raw.split(',')
            .filter(|part| !part.trim().is_empty())
            .map(parse)
            .collect()
    })
}

/// A trimmed filter value, `None` if blank; too long is a mistake, not a miss.
pub fn parse_text(
    field: &'static str,
    raw: Option<&str>,
) -> Result<Option<String>, ValidationError> {
    let Some(value) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > MAX_FILTER_CHARS {
        return Err(ValidationError::new(
            field,
            format!("must be at most {MAX_FILTER_CHARS} characters long"),
        ));
    }
    Ok(Some(value.to_owned()))
}

pub fn parse_limit(raw: Option<u32>) -> Result<u32, ValidationError> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(limit) if (1..=MAX_LIMIT).contains(&limit) => Ok(limit),
        Some(_) => Err(ValidationError::new(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        )),
    }
}

/// Text search as a prefix match on every word of `q` (`charg dou` finds "Double charge").
/// Words are runs of letters and digits, so nothing of `q` reaches the tsquery syntax.
pub fn search_query(q: &str) -> Option<String> {
    let terms: Vec<String> = q
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .take(MAX_SEARCH_TERMS)
        .map(|word| format!("{}:*", word.to_lowercase()))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" & "))
}

/// The token is the hex of `micros|id` (see `shared::http::cursor`).
impl Keyset for Cursor {
    fn fields(&self) -> Vec<String> {
        vec![time_field(self.created_at), self.id.to_string()]
    }

    fn from_fields(fields: &[&str]) -> Option<Self> {
        let [micros, id] = fields else { return None };
        Some(Self {
            created_at: parse_time(micros)?,
            id: id.parse().ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_another_lists_cursor_is_refused() {
        let cursor = Cursor {
            created_at: "2024-05-01T10:00:00.123456Z".parse().unwrap(),
            id: Uuid::now_v7(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        for bad in ["", "zz", &hex_of("1714557600123456|42"), &hex_of("x|y|z")] {
            assert!(Cursor::decode(bad).is_err(), "{bad}");
        }
    }

    fn hex_of(text: &str) -> String {
        text.bytes().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn search_matches_word_prefixes_and_drops_syntax() {
        assert_eq!(
            search_query("Double charg").as_deref(),
            Some("double:* & charg:*")
        );
        assert_eq!(search_query("a' | !b:*").as_deref(), Some("a:* & b:*"));
        assert_eq!(search_query(" !&| "), None);
        assert_eq!(search_query("café").as_deref(), Some("café:*"));
    }

    #[test]
    fn lists_of_statuses_parse_in_any_case() {
        let statuses = parse_list(Some("open, IN_PROGRESS"), Status::parse_lenient).unwrap();
        assert_eq!(statuses, [Status::Open, Status::InProgress]);
        assert!(parse_list(Some("DONE"), Status::parse_lenient).is_err());
        assert!(parse_list(None, Priority::parse_lenient)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn the_limit_is_between_1_and_100() {
        assert_eq!(parse_limit(None), Ok(DEFAULT_LIMIT));
        assert_eq!(parse_limit(Some(100)), Ok(100));
        assert!(parse_limit(Some(0)).is_err());
        assert!(parse_limit(Some(101)).is_err());
    }

    #[test]
    fn blank_filters_mean_any_and_long_ones_are_refused() {
        assert_eq!(parse_text("category", Some("  ")), Ok(None));
        assert_eq!(
            parse_text("category", Some(" billing ")),
            Ok(Some("billing".into()))
        );
        assert!(parse_text("q", Some(&"x".repeat(201))).is_err());
    }
}
