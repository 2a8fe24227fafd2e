//! Reading the log: the global order, one stream, the events a state is folded from, counts.
//! Every page is a range on an indexed field (never `skip`), which both MongoDB and the
//! stand-in answer in time proportional to the page.

use super::{bson_date, EventDocument, EventStore};
use crate::error::Result;
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use mongodb::bson::{doc, Bson, Document};
use std::collections::BTreeMap;

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

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Statistics {
    pub total: u64,
    pub last_position: i64,
    pub aggregate_streams: u64,
    pub by_event_type: BTreeMap<String, u64>,
    pub by_aggregate_type: BTreeMap<String, u64>,
    pub by_domain_stream: BTreeMap<String, u64>,
}

impl EventStore {
    /// Up to `limit` events after position `after` that match `filter`, in global order.
    pub async fn page_all(
        &self,
        filter: &AllFilter,
        after: i64,
        limit: usize,
    ) -> Result<Vec<EventDocument>> {
        let mut query = doc! { "position": { "$gt": after } };
        let exact = [
            ("eventType", &filter.event_type),
            ("aggregateType", &filter.aggregate_type),
            ("aggregateId", &filter.aggregate_id),
            ("correlationId", &filter.correlation_id),
        ];
        for (field, value) in exact {
            if let Some(value) = value {
                query.insert(field, value.as_str());
            }
        }
        let mut time = Document::new();
        if let Some(from) = filter.from {
            time.insert("$gte", bson_date(from));
        }
        if let Some(to) = filter.to {
            time.insert("$lt", bson_date(to));
        }
        if !time.is_empty() {
            query.insert("timestamp", time);
        }
        self.find_sorted(query, doc! { "position": 1 }, limit).await
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
        from_version: i64,
        cursor: Option<StreamCursor>,
        limit: usize,
    ) -> Result<Vec<EventDocument>> {
        let order = doc! { "version": 1, "position": 1 };
        let Some(cursor) = cursor else {
            let query = doc! { "streamId": stream_id, "version": { "$gte": from_version } };
            return self.find_sorted(query, order, limit).await;
        };
        let mut page = Vec::new();
        if !cursor.unique_versions {
            let same_version = doc! {
                "streamId": stream_id,
                "version": cursor.version,
                "position": { "$gt": cursor.position },
            };
            page = self.find_sorted(same_version, order.clone(), limit).await?;
        }
        if page.len() < limit {
            let later = doc! {
                "streamId": stream_id,
                "version": { "$gt": cursor.version.max(from_version - 1) },
            };
            page.extend(self.find_sorted(later, order, limit - page.len()).await?);
        }
        Ok(page)
    }

    /// Every event of `stream_id` up to `at_version` and recorded at or before `as_of`, in
    /// version order: what a state at that point is folded from.
    pub async fn events_until(
        &self,
        stream_id: &str,
        at_version: Option<i64>,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Vec<EventDocument>> {
        let mut query = doc! { "streamId": stream_id };
        if let Some(version) = at_version {
            query.insert("version", doc! { "$lte": version });
        }
        if let Some(as_of) = as_of {
            // The BSON date is the timestamp cut to milliseconds, so this finds a superset;
            // the exact comparison on the envelope's own timestamp follows.
            query.insert("timestamp", doc! { "$lte": bson_date(as_of) });
        }
        let mut events = self
            .find_sorted(query, doc! { "version": 1, "position": 1 }, 0)
            .await?;
        if let Some(as_of) = as_of {
            events.retain(|e| e.metadata.timestamp <= as_of);
        }
        Ok(events)
    }

    /// Up to `limit` events after `position`, in global order (the Redis mirror's catch-up).
    pub async fn after_position(&self, position: i64, limit: usize) -> Result<Vec<EventDocument>> {
        self.find_sorted(
            doc! { "position": { "$gt": position } },
            doc! { "position": 1 },
            limit,
        )
        .await
    }

    /// The number of stored events, from the collection's metadata (cheap, may lag slightly).
    pub async fn estimated_count(&self) -> Result<u64> {
        Ok(self.raw.estimated_document_count().await?)
    }

    /// Counts per event type, aggregate type and domain stream, in one aggregation.
    pub async fn statistics(&self) -> Result<Statistics> {
        let group = |field: &str| {
            vec![doc! { "$group": { "_id": format!("${field}"), "count": { "$sum": 1 } } }]
        };
        let pipeline = vec![doc! { "$facet": {
            "byEventType": group("eventType"),
            "byAggregateType": group("aggregateType"),
            "byDomainStream": group("domainStream"),
            "streams": [ { "$group": { "_id": "$streamId" } }, { "$count": "n" } ],
            "total": [ { "$count": "n" } ],
        } }];
        let facets: Vec<Document> = self
            .raw
            .aggregate(pipeline)
            .allow_disk_use(true)
            .await?
            .try_collect()
            .await?;
        let facets = facets.into_iter().next().unwrap_or_default();
        Ok(Statistics {
            total: first_count(&facets, "total"),
            last_position: self.max_position().await?,
            aggregate_streams: first_count(&facets, "streams"),
            by_event_type: counts(&facets, "byEventType"),
            by_aggregate_type: counts(&facets, "byAggregateType"),
            by_domain_stream: counts(&facets, "byDomainStream"),
        })
    }

    /// `limit` 0 means no limit.
    async fn find_sorted(
        &self,
        query: Document,
        sort: Document,
        limit: usize,
    ) -> Result<Vec<EventDocument>> {
        let find = self.events.find(query).sort(sort);
        let find = if limit > 0 {
            find.limit(i64::try_from(limit).unwrap_or(i64::MAX))
        } else {
            find
        };
        Ok(find.await?.try_collect().await?)
    }
}

/// `{ facet: [ { _id: key, count: n }, … ] }` as a map.
fn counts(facets: &Document, facet: &str) -> BTreeMap<String, u64> {
    facets
        .get_array(facet)
        .map(|rows| {
            rows.iter()
                .filter_map(Bson::as_document)
                .filter_map(|row| {
                    let key = row.get_str("_id").ok()?.to_owned();
                    Some((key, number(row.get("count")?)))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `{ facet: [ { n: count } ] }` as a number; an empty facet is 0.
fn first_count(facets: &Document, facet: &str) -> u64 {
    facets
        .get_array(facet)
        .ok()
        .and_then(|rows| rows.first())
        .and_then(Bson::as_document)
        .and_then(|row| row.get("n"))
        .map_or(0, number)
}

/// Counts come back as 32- or 64-bit integers (or doubles, from some servers).
fn number(value: &Bson) -> u64 {
    match value {
        Bson::Int32(n) => u64::try_from(*n).unwrap_or(0),
        Bson::Int64(n) => u64::try_from(*n).unwrap_or(0),
        Bson::Double(n) if *n >= 0.0 => *n as u64,
        _ => 0,
    }
}
