//! Query parameters: taken as text so that every mistake gets a message naming the
//! parameter and what is expected, then parsed into the types the store takes.

use crate::{cursor::Cursor, error::AuditError, query::EntryFilter};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shared::http::cursor::Keyset;
use utoipa::IntoParams;

/// The most entries one page may hold.
pub const MAX_LIMIT: u32 = 200;
/// Longest accepted filter value, in characters.
const MAX_TEXT: usize = 200;

// The `pattern`s below say what the parsers accept, for the OpenAPI document (ECMA and Python
// regexes alike), so that a schema-valid request is never refused: text that is not blank
// (`shared::http::openapi::NOT_BLANK_TEXT`), and cursors as the hex of `s|<sequence>`
// (search, latest events) or `t|<micros>|<sequence>` (trail).

/// Filters of `GET /api/audit/search`; every one given must hold.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct SearchParams {
    /// An event type name, e.g. `COMPLAINT_ASSIGNED`.
    #[param(pattern = "^[A-Z][A-Z0-9_]{0,99}$")]
    event_type: Option<String>,
    /// Who did it (`metadata.userId`).
    #[param(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F\x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F]*$",
        max_length = 200
    )]
    actor: Option<String>,
    #[param(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F\x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F]*$",
        max_length = 200
    )]
    correlation_id: Option<String>,
    /// e.g. `Complaint`, `Notification`, `Saga`.
    #[param(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F\x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F]*$",
        max_length = 200
    )]
    aggregate_type: Option<String>,
    #[param(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F\x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F]*$",
        max_length = 200
    )]
    aggregate_id: Option<String>,
    /// The publishing service (`metadata.source`), e.g. `complaint-service`.
    #[param(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F\x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F]*$",
        max_length = 200
    )]
    service: Option<String>,
    /// Events that happened at or after this instant (RFC 3339, e.g. `2024-05-01T10:00:00Z`).
    #[param(value_type = Option<String>, format = DateTime)]
    from: Option<String>,
    /// Events that happened before this instant (RFC 3339); a `to` not after `from` finds
    /// nothing.
    #[param(value_type = Option<String>, format = DateTime)]
    to: Option<String>,
    /// Free text searched in the payload, ignoring case.
    #[param(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F\x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F]*$",
        max_length = 200
    )]
    q: Option<String>,
    /// The `nextCursor` of the previous page.
    #[param(pattern = "^737c(3[0-9]){1,18}$")]
    cursor: Option<String>,
    /// Entries per page, 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
}

/// Paging of `GET /api/audit/events`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct PageParams {
    /// The `nextCursor` of the previous page.
    #[param(pattern = "^737c(3[0-9]){1,18}$")]
    cursor: Option<String>,
    /// Entries per page, 1 to 200 (default 50; 200 for a trail).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
}

/// For routes that take no parameters: naming one is a mistake worth telling.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

impl SearchParams {
    pub fn filter(&self) -> Result<EntryFilter, AuditError> {
        let filter = EntryFilter {
            event_type: self
                .event_type
                .as_deref()
                .map(event_type_name)
                .transpose()?,
            actor: text("actor", self.actor.as_deref())?,
            correlation_id: text("correlationId", self.correlation_id.as_deref())?,
            aggregate_type: text("aggregateType", self.aggregate_type.as_deref())?,
            aggregate_id: text("aggregateId", self.aggregate_id.as_deref())?,
            service: text("service", self.service.as_deref())?,
            from: instant("from", self.from.as_deref())?,
            to: instant("to", self.to.as_deref())?,
            text: text("q", self.q.as_deref())?,
        };
        // A `to` not after `from` is an empty interval, not a mistake: it finds nothing.
        // (OpenAPI cannot say that one parameter must exceed another, so a generated client
        // could not know to avoid it.)
        Ok(filter)
    }

    pub fn page(&self, default_limit: u32) -> Result<(Option<Cursor>, u32), AuditError> {
        page(self.cursor.as_deref(), self.limit.as_deref(), default_limit)
    }
}

impl PageParams {
    pub fn page(&self, default_limit: u32) -> Result<(Option<Cursor>, u32), AuditError> {
        page(self.cursor.as_deref(), self.limit.as_deref(), default_limit)
    }
}

fn page(
    cursor: Option<&str>,
    limit: Option<&str>,
    default_limit: u32,
) -> Result<(Option<Cursor>, u32), AuditError> {
    let cursor = cursor.map(Cursor::decode).transpose()?;
    let limit = match limit {
        None => default_limit,
        Some(raw) => match raw.trim().parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(AuditError::invalid(
                    "limit",
                    format!("must be a whole number from 1 to {MAX_LIMIT}, got {raw:?}"),
                ))
            }
        },
    };
    Ok((cursor, limit))
}

/// A non-blank value of at most `MAX_TEXT` characters.
fn text(parameter: &'static str, value: Option<&str>) -> Result<Option<String>, AuditError> {
    let Some(value) = value else {
        return Ok(None);
    };
    if value.trim().is_empty() {
        return Err(AuditError::invalid(parameter, "must not be empty"));
    }
    if value.chars().count() > MAX_TEXT {
        return Err(AuditError::invalid(
            parameter,
            format!("must be at most {MAX_TEXT} characters"),
        ));
    }
    Ok(Some(value.to_owned()))
}

/// An event type name: upper-case letters, digits and `_`. Types outside the catalogue are
/// accepted: the trail records those too.
fn event_type_name(value: &str) -> Result<String, AuditError> {
    let well_formed = value.len() <= 100
        && value.starts_with(|c: char| c.is_ascii_uppercase())
        && value
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if well_formed {
        Ok(value.to_owned())
    } else {
        Err(AuditError::invalid(
            "eventType",
            format!("expected an event type name such as COMPLAINT_CREATED, got {value:?}"),
        ))
    }
}

fn instant(
    parameter: &'static str,
    value: Option<&str>,
) -> Result<Option<DateTime<Utc>>, AuditError> {
    let Some(value) = value else {
        return Ok(None);
    };
    DateTime::parse_from_rfc3339(value)
        .map(|at| Some(at.with_timezone(&Utc)))
        .map_err(|_| {
            AuditError::invalid(
                parameter,
                format!(
                    "expected an RFC 3339 timestamp such as 2024-05-01T10:00:00Z, got {value:?} \
                     (a `+` in an offset must be sent as %2B)"
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The params as axum's `Query` builds them from a query string.
    fn search(query: &str) -> SearchParams {
        let uri: axum::http::Uri = format!("/s?{query}").parse().unwrap();
        axum::extract::Query::<SearchParams>::try_from_uri(&uri)
            .unwrap()
            .0
    }

    fn message(error: AuditError) -> String {
        error.to_string()
    }

    #[test]
    fn a_full_search_is_parsed_into_a_filter() {
        let params = search(
            "eventType=COMPLAINT_ASSIGNED&actor=u-1&correlationId=c&aggregateType=Complaint\
             &aggregateId=a&service=complaint-service&from=2024-05-01T10:00:00Z\
             &to=2024-05-02T10:00:00%2B02:00&q=broken",
        );
        let filter = params.filter().unwrap();
        assert_eq!(filter.event_type.as_deref(), Some("COMPLAINT_ASSIGNED"));
        assert_eq!(filter.service.as_deref(), Some("complaint-service"));
        assert_eq!(
            filter.to,
            Some("2024-05-02T08:00:00Z".parse::<DateTime<Utc>>().unwrap())
        );
        assert_eq!(filter.text.as_deref(), Some("broken"));
        assert_eq!(params.page(50).unwrap(), (None, 50));
    }

    #[test]
    fn bad_values_are_named_in_the_error() {
        let cases = [
            ("from=yesterday", "from: expected an RFC 3339 timestamp"),
            (
                "to=2024-13-01T00:00:00Z",
                "to: expected an RFC 3339 timestamp",
            ),
            (
                "eventType=complaint_created",
                "eventType: expected an event type name",
            ),
            ("actor=%20", "actor: must not be empty"),
        ];
        for (query, expected) in cases {
            let error = search(query).filter().unwrap_err();
            assert!(message(error).starts_with(expected), "{query}");
        }
    }

    #[test]
    fn the_limit_must_be_between_1_and_200() {
        for bad in ["0", "201", "-1", "ten", ""] {
            let error = search(&format!("limit={bad}")).page(50).unwrap_err();
            assert!(message(error).starts_with("limit: must be a whole number from 1 to 200"));
        }
        assert_eq!(search("limit=200").page(50).unwrap().1, 200);
    }

    #[test]
    fn a_cursor_must_be_one_handed_out() {
        let error = search("cursor=nonsense").page(50).unwrap_err();
        assert!(matches!(error, AuditError::InvalidCursor(_)));
        let token = Cursor::Sequence(9).encode();
        assert_eq!(
            search(&format!("cursor={token}")).page(50).unwrap(),
            (Some(Cursor::Sequence(9)), 50)
        );
    }

    #[test]
    fn unknown_parameters_are_refused() {
        let uri: axum::http::Uri = "/s?evenType=X".parse().unwrap();
        let error = axum::extract::Query::<SearchParams>::try_from_uri(&uri).unwrap_err();
        assert!(error.body_text().contains("unknown field `evenType`"));
        let uri: axum::http::Uri = "/s?x=1".parse().unwrap();
        assert!(axum::extract::Query::<NoParams>::try_from_uri(&uri).is_err());
        let uri: axum::http::Uri = "/s".parse().unwrap();
        assert!(axum::extract::Query::<NoParams>::try_from_uri(&uri).is_ok());
    }
}
