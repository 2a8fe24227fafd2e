//! Every filter, pipeline and option set the store sends to MongoDB, built here and nowhere
//! else, so that their shapes can be pinned by the tests below. Pure.
//!
//! The shapes are the ones both MongoDB and the stand-in (nx-27017) answer from an index
//! (measured in `/work/shared/DESIGN.md`, "Measured here"):
//! - equality is `{field: {$eq: v}}`: the stand-in turns a plain `{field: v}` into
//!   `= ? OR EXISTS(json_each …)`, which no index serves (85–95 ms at 50,000 events instead
//!   of 1–2 ms); on MongoDB the two are the same query;
//! - time filters compare `timestampMs`, an indexed integer: BSON date ranges go through
//!   `datetime(…)` and Python on the stand-in;
//! - counts are `[{$match}, {$count}]`, never `count_documents` (a `$group` the stand-in runs
//!   in Python, seconds) and never `$facet` (a copy of the collection per facet, under the
//!   database's lock);
//! - no `$or`, `$in`, `$and`, `$nor` or `$not`: the stand-in reads every row for those;
//! - every read carries `maxTimeMS` (MongoDB stops the query; the stand-in ignores it, which
//!   is why every read is also bounded by its shape: a page, a window of positions, a stream).

use mongodb::{
    bson::{doc, Bson, Document},
    options::{AggregateOptions, EstimatedDocumentCountOptions, FindOneOptions, FindOptions},
};
use std::time::Duration;

/// `maxTimeMS` of every read: far above what an index-served query takes, low enough that a
/// query gone wrong cannot hold MongoDB for long.
pub const READ_TIME_LIMIT: Duration = Duration::from_secs(5);

/// The equality filter `{field: {$eq: value}}`.
fn eq(value: impl Into<Bson>) -> Document {
    doc! { "$eq": value.into() }
}

/// `{eventId: {$eq: id}}`: a redelivery's lookup.
pub fn event_id(id: &str) -> Document {
    doc! { "eventId": eq(id) }
}

/// `{position: {$eq: p}}`: whether another writer took a position.
pub fn position(position: i64) -> Document {
    doc! { "position": eq(position) }
}

/// Who holds version `version` of `stream_id` (streams with unique versions).
pub fn version_holder(stream_id: &str, version: i64) -> Document {
    doc! { "streamId": eq(stream_id), "uniqueVersion": eq(version) }
}

/// Events after `position`, up to `up_to` when given (a window of the global order).
pub fn positions(after: i64, up_to: Option<i64>) -> Document {
    let mut range = doc! { "$gt": after };
    if let Some(up_to) = up_to {
        range.insert("$lte", up_to);
    }
    doc! { "position": range }
}

/// The global order.
pub fn by_position() -> Document {
    doc! { "position": 1 }
}

/// A stream's order: version, then position (versions repeat in some streams).
pub fn by_version() -> Document {
    doc! { "version": 1, "position": 1 }
}

/// The exact-match filters of `GET /all`, by document field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exact<'a> {
    pub event_type: Option<&'a str>,
    pub aggregate_type: Option<&'a str>,
    pub aggregate_id: Option<&'a str>,
    pub correlation_id: Option<&'a str>,
}

impl Exact<'_> {
    fn fields(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("eventType", self.event_type),
            ("aggregateType", self.aggregate_type),
            ("aggregateId", self.aggregate_id),
            ("correlationId", self.correlation_id),
        ]
        .into_iter()
        .filter_map(|(field, value)| Some((field, value?)))
    }

    pub fn count(&self) -> usize {
        self.fields().count()
    }
}

/// A time range in milliseconds since the epoch: `from` inclusive, `to` exclusive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeRange {
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

impl TimeRange {
    pub fn is_empty(&self) -> bool {
        self.from_ms.is_none() && self.to_ms.is_none()
    }

    /// The range with both ends given (the open one at the end of time), so that the
    /// stand-in walks the `timestampMs` index rather than the global order: it prefers the
    /// index with a two-sided range.
    pub fn closed(&self) -> TimeRange {
        TimeRange {
            from_ms: Some(self.from_ms.unwrap_or(i64::MIN)),
            to_ms: Some(self.to_ms.unwrap_or(i64::MAX)),
        }
    }

    /// `{timestampMs: {$gte, $lt}}`: the events in the range, whatever their position.
    pub fn filter(&self) -> Document {
        match self.condition() {
            Some(range) => doc! { "timestampMs": range },
            None => Document::new(),
        }
    }

    fn condition(&self) -> Option<Document> {
        let mut range = Document::new();
        if let Some(from) = self.from_ms {
            range.insert("$gte", from);
        }
        if let Some(to) = self.to_ms {
            range.insert("$lt", to);
        }
        (!range.is_empty()).then_some(range)
    }
}

/// A page of `GET /all`: positions after `after` (up to `up_to`), the exact filters, the
/// time range.
pub fn log_page(after: i64, up_to: Option<i64>, exact: &Exact, time: &TimeRange) -> Document {
    let mut filter = positions(after, up_to);
    for (field, value) in exact.fields() {
        filter.insert(field, eq(value));
    }
    if let Some(range) = time.condition() {
        filter.insert("timestampMs", range);
    }
    filter
}

/// The events of `stream_id` from version `from_version` on.
pub fn stream_from(stream_id: &str, from_version: i64) -> Document {
    doc! { "streamId": eq(stream_id), "version": { "$gte": from_version } }
}

/// The events of `stream_id` from `from_version` to `to_version` (inclusive).
pub fn stream_between(stream_id: &str, from_version: i64, to_version: Option<i64>) -> Document {
    let mut versions = doc! { "$gte": from_version };
    if let Some(to) = to_version {
        versions.insert("$lte", to);
    }
    doc! { "streamId": eq(stream_id), "version": versions }
}

/// The rest of version `version` of `stream_id` after position `position`.
pub fn stream_same_version(stream_id: &str, version: i64, position: i64) -> Document {
    doc! {
        "streamId": eq(stream_id),
        "version": eq(version),
        "position": { "$gt": position },
    }
}

/// The events of `stream_id` above version `version` (up to `to_version`).
pub fn stream_after_version(stream_id: &str, version: i64, to_version: Option<i64>) -> Document {
    let mut versions = doc! { "$gt": version };
    if let Some(to) = to_version {
        versions.insert("$lte", to);
    }
    doc! { "streamId": eq(stream_id), "version": versions }
}

/// The events of `stream_id` above version `after_version` (the previous page of a fold) up
/// to `at_version`, stamped at or before `as_of_ms`. Only for streams with unique versions.
pub fn stream_until(
    stream_id: &str,
    after_version: i64,
    at_version: Option<i64>,
    as_of_ms: Option<i64>,
) -> Document {
    let mut filter = stream_after_version(stream_id, after_version, at_version);
    if let Some(as_of) = as_of_ms {
        filter.insert("timestampMs", doc! { "$lte": as_of });
    }
    filter
}

/// `{_id: {$eq: stream_id}}`: the snapshot of a stream (snapshots.rs).
pub fn snapshot_of(stream_id: &str) -> Document {
    doc! { "_id": eq(stream_id) }
}

/// Documents stored before `timestampMs` existed (the backfill at start).
pub fn without_time_field() -> Document {
    doc! { "timestampMs": { "$exists": false } }
}

/// `[{$match: filter}, {$count: "n"}]`: a count the index answers.
pub fn count(filter: Document) -> Vec<Document> {
    vec![doc! { "$match": filter }, doc! { "$count": "n" }]
}

/// `[{$group: {_id: "$field", count: {$sum: 1}}}]`: events per value of an indexed field.
pub fn count_by(field: &str) -> Vec<Document> {
    vec![doc! { "$group": { "_id": format!("${field}"), "count": { "$sum": 1 } } }]
}

/// A sorted find of at most `limit` documents (0: no limit; only streams bounded otherwise).
pub fn find(sort: Document, limit: usize) -> FindOptions {
    let mut options = FindOptions::builder()
        .sort(sort)
        .max_time(READ_TIME_LIMIT)
        .build();
    if limit > 0 {
        options.limit = Some(i64::try_from(limit).unwrap_or(i64::MAX));
    }
    options
}

/// A single-document lookup returning only `projection`, first in `sort` order if given.
pub fn find_one(projection: Document, sort: Option<Document>) -> FindOneOptions {
    FindOneOptions::builder()
        .projection(projection)
        .sort(sort)
        .max_time(READ_TIME_LIMIT)
        .build()
}

/// A single-document lookup returning the whole document.
pub fn find_one_whole() -> FindOneOptions {
    FindOneOptions::builder().max_time(READ_TIME_LIMIT).build()
}

pub fn aggregate() -> AggregateOptions {
    AggregateOptions::builder()
        .max_time(READ_TIME_LIMIT)
        .build()
}

pub fn estimated_count() -> EstimatedDocumentCountOptions {
    EstimatedDocumentCountOptions::builder()
        .max_time(READ_TIME_LIMIT)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Operators a filter may use: each is served by an index on both servers.
    const ALLOWED: [&str; 6] = ["$eq", "$gt", "$gte", "$lt", "$lte", "$exists"];

    /// Fails unless every field of `filter` is compared with allowed operators (never a plain
    /// value, never `$or`, `$in`, …). `_id` alone may be compared plainly.
    fn assert_index_shaped(filter: &Document) {
        for (field, condition) in filter {
            assert!(
                !field.starts_with('$'),
                "top-level operator {field} in {filter}"
            );
            if field == "_id" {
                continue;
            }
            let Bson::Document(condition) = condition else {
                panic!("plain equality on {field} in {filter}: write {{$eq: …}}");
            };
            assert!(!condition.is_empty(), "empty condition on {field}");
            for (operator, _) in condition {
                assert!(
                    ALLOWED.contains(&operator.as_str()),
                    "{operator} on {field} in {filter}"
                );
            }
        }
    }

    fn assert_pipeline_shaped(pipeline: &[Document]) {
        for stage in pipeline {
            let (name, body) = stage.iter().next().expect("a stage");
            assert!(
                ["$match", "$count", "$group"].contains(&name.as_str()),
                "stage {name}"
            );
            if name == "$match" {
                assert_index_shaped(body.as_document().expect("a filter"));
            }
        }
    }

    fn every_filter() -> Vec<Document> {
        let exact = Exact {
            event_type: Some("COMPLAINT_CREATED"),
            aggregate_type: Some("Complaint"),
            aggregate_id: Some("c-1"),
            correlation_id: Some("corr"),
        };
        let time = TimeRange {
            from_ms: Some(1),
            to_ms: Some(2),
        };
        vec![
            event_id("e"),
            position(7),
            version_holder("Complaint-c", 3),
            positions(5, None),
            positions(5, Some(9)),
            log_page(0, None, &Exact::default(), &TimeRange::default()),
            log_page(0, Some(10), &exact, &time),
            stream_from("s", 1),
            stream_between("s", 1, Some(9)),
            stream_same_version("s", 2, 40),
            stream_after_version("s", 2, None),
            stream_until("s", 0, Some(3), Some(99)),
            stream_until("s", 4, None, None),
            without_time_field(),
            snapshot_of("Complaint-c"),
        ]
    }

    #[test]
    fn every_filter_compares_with_operators_an_index_serves() {
        for filter in every_filter() {
            assert_index_shaped(&filter);
        }
        for pipeline in [count(stream_between("s", 1, None)), count_by("eventType")] {
            assert_pipeline_shaped(&pipeline);
        }
    }

    #[test]
    #[should_panic(expected = "plain equality")]
    fn the_check_catches_a_plain_equality() {
        assert_index_shaped(&doc! { "streamId": "Complaint-c" });
    }

    #[test]
    #[should_panic(expected = "$in on eventId")]
    fn the_check_catches_an_in() {
        assert_index_shaped(&doc! { "eventId": { "$in": ["a", "b"] } });
    }

    #[test]
    fn the_documents_are_exactly_these() {
        assert_eq!(event_id("e"), doc! { "eventId": { "$eq": "e" } });
        assert_eq!(
            snapshot_of("Complaint-c"),
            doc! { "_id": { "$eq": "Complaint-c" } }
        );
        assert_eq!(
            version_holder("Complaint-c", 3),
            doc! { "streamId": { "$eq": "Complaint-c" }, "uniqueVersion": { "$eq": 3_i64 } }
        );
        assert_eq!(
            log_page(
                4,
                Some(10),
                &Exact {
                    event_type: Some("T"),
                    ..Exact::default()
                },
                &TimeRange {
                    from_ms: Some(1000),
                    to_ms: None
                }
            ),
            doc! {
                "position": { "$gt": 4_i64, "$lte": 10_i64 },
                "eventType": { "$eq": "T" },
                "timestampMs": { "$gte": 1000_i64 },
            }
        );
        assert_eq!(
            stream_until("s", 4, Some(9), Some(5)),
            doc! {
                "streamId": { "$eq": "s" },
                "version": { "$gt": 4_i64, "$lte": 9_i64 },
                "timestampMs": { "$lte": 5_i64 },
            }
        );
        assert_eq!(
            count(stream_from("s", 2)),
            vec![
                doc! { "$match": { "streamId": { "$eq": "s" }, "version": { "$gte": 2_i64 } } },
                doc! { "$count": "n" },
            ]
        );
    }

    #[test]
    fn every_read_has_a_time_limit() {
        assert_eq!(find(by_position(), 10).max_time, Some(READ_TIME_LIMIT));
        assert_eq!(find(by_position(), 10).limit, Some(10));
        assert_eq!(
            find_one(doc! { "_id": 1 }, None).max_time,
            Some(READ_TIME_LIMIT)
        );
        assert_eq!(find_one_whole().max_time, Some(READ_TIME_LIMIT));
        assert_eq!(aggregate().max_time, Some(READ_TIME_LIMIT));
        assert_eq!(estimated_count().max_time, Some(READ_TIME_LIMIT));
    }
}
