//! Reading the log: the global order, one stream, the events a state is folded from. Every
//! page is a range on an indexed field (never `skip`), in the shapes of `shapes.rs`, and no
//! read is unbounded: pages have a size, filters no single index answers scan a bounded
//! window of positions, and a fold stops at `fold_max_events`.

use super::{shapes, EventDocument, EventStore};
use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use mongodb::bson::Document;

/// Filters of `GET /all`; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct AllFilter {
    pub event_type: Option<String>,
    pub aggregate_type: Option<String>,
    pub aggregate_id: Option<String>,
    pub correlation_id: Option<String>,
    /// Inclusive, on the event's timestamp (millisecond precision).
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub to: Option<DateTime<Utc>>,
}

impl AllFilter {
    fn exact(&self) -> shapes::Exact<'_> {
        shapes::Exact {
            event_type: self.event_type.as_deref(),
            aggregate_type: self.aggregate_type.as_deref(),
            aggregate_id: self.aggregate_id.as_deref(),
            correlation_id: self.correlation_id.as_deref(),
        }
    }

    fn time(&self) -> shapes::TimeRange {
        shapes::TimeRange {
            from_ms: self.from.map(|t| t.timestamp_millis()),
            to_ms: self.to.map(|t| t.timestamp_millis()),
        }
    }

    /// Whether one index answers the filter in the global order: none or one exact filter
    /// (`(field, position)` indexes), no time range. Otherwise the index walked may hold any
    /// number of events the other conditions refuse, so a page scans a window of positions.
    fn needs_window(&self) -> bool {
        self.exact().count() > 1 || !self.time().is_empty()
    }
}

/// A page of the global log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogPage {
    pub events: Vec<EventDocument>,
    /// The cursor for the next page: the last event's position, or the end of the window
    /// scanned when the page is not full.
    pub next_after: i64,
    /// Whether events after `next_after` may match: more matched, or the window did not reach
    /// the end of the log.
    pub has_more: bool,
}

/// Where a page of one stream ends: the last event's version and position (several events
/// may share a version in streams without unique versions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamCursor {
    pub version: i64,
    pub position: i64,
    /// Whether the stream's versions are unique (then nothing else has this version).
    pub unique_versions: bool,
}

impl StreamCursor {
    /// The cursor after `event`, the last of a page.
    pub fn after(event: &EventDocument) -> Self {
        Self {
            version: event.version,
            position: event.position,
            unique_versions: event.unique_version.is_some(),
        }
    }
}

impl EventStore {
    /// Up to `limit` events after position `after` that match `filter`, in global order.
    ///
    /// A filter that one index answers reads `limit + 1` entries of it. Any other filter
    /// scans the positions `after + 1 ..= after + scan_window` at most (read against the last
    /// position stored, so a window never passes events not yet visible): its page may be
    /// short, even empty, with `has_more` true; the next page starts where the window ended.
    ///
    /// A time range alone that holds at most `small_time_range` events (counted from its
    /// index first) is read through the `timestampMs` index instead: full pages wherever the
    /// range lies in the log, at a cost bounded by the range's size.
    pub async fn page_all(&self, filter: &AllFilter, after: i64, limit: usize) -> Result<LogPage> {
        let (exact, mut time) = (filter.exact(), filter.time());
        let mut needs_window = filter.needs_window();
        if exact.count() == 0 && !time.is_empty() {
            let in_range = self.count(time.closed().filter()).await?;
            if in_range <= self.limits.small_time_range {
                time = time.closed();
                needs_window = false;
            }
        }
        let window_end = if needs_window {
            let last = self.max_position().await?;
            Some((
                after.saturating_add(self.limits.scan_window).min(last),
                last,
            ))
        } else {
            None
        };
        let query = shapes::log_page(after, window_end.map(|(end, _)| end), &exact, &time);
        let mut events = self
            .find_sorted(query, shapes::by_position(), limit + 1)
            .await?;
        let full = events.len() > limit;
        events.truncate(limit);
        let last_event = events.last().map(|e| e.position);
        let (next_after, has_more) = match window_end {
            _ if full => (last_event.unwrap_or(after), true),
            Some((end, last)) => (end.max(after), end < last),
            None => (last_event.unwrap_or(after), false),
        };
        Ok(LogPage {
            events,
            next_after,
            has_more,
        })
    }

    /// Up to `limit` events of `stream_id` from `from_version` on, after `cursor` if given,
    /// in version order (then position, for streams where versions repeat).
    ///
    /// After a cursor `(v, p)` the page is the rest of version `v` (positions after `p`), then
    /// versions above `v`: two range scans of the `stream_order` index, where one query with
    /// `$or` would make MongoDB merge two plans (and the stand-in scan the collection).
    pub async fn stream_page(
        &self,
        stream_id: &str,
        versions: (i64, Option<i64>),
        cursor: Option<StreamCursor>,
        limit: usize,
    ) -> Result<Vec<EventDocument>> {
        let (from_version, to_version) = versions;
        let Some(cursor) = cursor else {
            let query = shapes::stream_between(stream_id, from_version, to_version);
            return self.find_sorted(query, shapes::by_version(), limit).await;
        };
        let mut page = Vec::new();
        if !cursor.unique_versions {
            let same_version =
                shapes::stream_same_version(stream_id, cursor.version, cursor.position);
            page = self
                .find_sorted(same_version, shapes::by_version(), limit)
                .await?;
        }
        if page.len() < limit {
            let later = shapes::stream_after_version(
                stream_id,
                cursor.version.max(from_version - 1),
                to_version,
            );
            page.extend(
                self.find_sorted(later, shapes::by_version(), limit - page.len())
                    .await?,
            );
        }
        Ok(page)
    }

    /// How many events of `stream_id` lie between the two versions (inclusive; counted from
    /// the `stream_order` index).
    pub async fn count_stream(
        &self,
        stream_id: &str,
        from_version: i64,
        to_version: Option<i64>,
    ) -> Result<u64> {
        let filter = shapes::stream_between(stream_id, from_version, to_version);
        self.count(filter).await
    }

    /// `[{$match: filter}, {$count: "n"}]`.
    pub(super) async fn count(&self, filter: Document) -> Result<u64> {
        let rows: Vec<Document> = self
            .raw
            .aggregate(shapes::count(filter))
            .with_options(shapes::aggregate())
            .await?
            .try_collect()
            .await?;
        Ok(rows
            .first()
            .and_then(|row| row.get("n"))
            .map_or(0, super::statistics::number))
    }

    /// Every event of `stream_id` (a stream with unique versions) after `after_version` (0: from
    /// the first; a snapshot's version otherwise), up to `at_version` and recorded at or before
    /// `as_of`, in version order: what a state at that point is folded from. Read a page at a
    /// time; more than `fold_max_events` events is refused.
    pub async fn events_until(
        &self,
        stream_id: &str,
        after_version: i64,
        at_version: Option<i64>,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Vec<EventDocument>> {
        const PAGE: usize = 1000;
        let max = self.limits.fold_max_events;
        // Milliseconds cut the timestamp, so this finds a superset; the exact comparison on
        // the envelope's own timestamp follows.
        let as_of_ms = as_of.map(|t| t.timestamp_millis());
        let mut events: Vec<EventDocument> = Vec::new();
        loop {
            let after = events.last().map_or(after_version, |e| e.version);
            let query = shapes::stream_until(stream_id, after, at_version, as_of_ms);
            let page = self
                .find_sorted(
                    query,
                    shapes::by_version(),
                    PAGE.min(max + 1 - events.len()),
                )
                .await?;
            let last_page = page.len() < PAGE;
            events.extend(page);
            if events.len() > max {
                return Err(Error::TooLarge {
                    field: "atVersion",
                    reason: format!(
                        "stream {stream_id:?} has more than {max} events to fold; ask for an earlier `atVersion`"
                    ),
                });
            }
            if last_page {
                break;
            }
        }
        if let Some(as_of) = as_of {
            events.retain(|e| e.metadata.timestamp <= as_of);
        }
        Ok(events)
    }

    /// Up to `limit` events after `position`, in global order (the Redis mirror's catch-up).
    pub async fn after_position(&self, position: i64, limit: usize) -> Result<Vec<EventDocument>> {
        self.find_sorted(
            shapes::positions(position, None),
            shapes::by_position(),
            limit,
        )
        .await
    }

    /// The number of stored events, from the collection's metadata (cheap, may lag slightly).
    pub async fn estimated_count(&self) -> Result<u64> {
        Ok(self
            .raw
            .estimated_document_count()
            .with_options(shapes::estimated_count())
            .await?)
    }

    /// At most `limit` documents (every caller passes a bound).
    async fn find_sorted(
        &self,
        query: Document,
        sort: Document,
        limit: usize,
    ) -> Result<Vec<EventDocument>> {
        let find = self
            .events
            .find(query)
            .with_options(shapes::find(sort, limit.max(1)));
        Ok(find.await?.try_collect().await?)
    }
}
