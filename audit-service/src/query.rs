//! What a reader can ask of the trail, once the HTTP layer has parsed and checked it.

use chrono::{DateTime, Utc};

/// Conditions an entry must meet; every one given must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntryFilter {
    pub event_type: Option<String>,
    pub actor: Option<String>,
    pub correlation_id: Option<String>,
    pub aggregate_type: Option<String>,
    pub aggregate_id: Option<String>,
    pub service: Option<String>,
    /// The event happened at or after this.
    pub from: Option<DateTime<Utc>>,
    /// The event happened before this.
    pub to: Option<DateTime<Utc>>,
    /// Occurs in the payload's JSON text, ignoring case.
    pub text: Option<String>,
}

/// One page of a list: up to `limit` entries after the cursor's position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageRequest<P> {
    pub after: Option<P>,
    pub limit: u32,
}

/// One page and whether another follows.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_more: bool,
}

impl<T> Page<T> {
    /// Splits `fetched` (asked with `limit + 1`) into the page and whether more follow.
    pub fn from_fetched(mut fetched: Vec<T>, limit: u32) -> Self {
        let has_more = fetched.len() > limit as usize;
        fetched.truncate(limit as usize);
        Self {
            items: fetched,
            has_more,
        }
    }
}

/// `text` as an ILIKE pattern matching it anywhere, its own `%`, `_` and `\` taken literally.
pub fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_knows_whether_more_follow() {
        assert_eq!(
            Page::from_fetched(vec![1, 2, 3], 2),
            Page {
                items: vec![1, 2],
                has_more: true
            }
        );
        assert!(!Page::from_fetched(vec![1, 2], 2).has_more);
    }

    #[test]
    fn wildcards_in_free_text_are_literal() {
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
        assert_eq!(contains_pattern("plain"), "%plain%");
    }
}
