//! Counts for `GET /api/events/statistics`, in a cost the database can afford at any size.
//!
//! Two `$group` pipelines over indexed fields (per event type, per aggregate type), each with
//! `maxTimeMS`, and the last position (the exact total: positions have no gaps); the counts
//! per domain stream follow from the counts per event type (`placement::domain_stream` is a
//! function of the type). Never `$facet`: the stand-in copies the collection once per facet
//! under the database's lock (46 s at 50,000 events, stalling ingestion meanwhile).
//!
//! The number of distinct streams is not counted any more: `[{$group: {_id: "$streamId"}},
//! {$count}]` runs in Python on the stand-in, 6.6 s at 200,000 events under the database's
//! lock, and grows with the log.
//!
//! The groups still read every index entry, so one computation at a time runs and its result
//! serves every request for `FRESH_FOR`: a burst of requests costs the database one
//! computation, and ingestion at most that one at a time.

use super::{shapes, EventStore};
use crate::{error::Result, placement};
use futures_util::TryStreamExt;
use mongodb::bson::{Bson, Document};
use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

/// How long counted statistics are served before they are counted again.
const FRESH_FOR: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Statistics {
    pub total: u64,
    pub last_position: i64,
    pub by_event_type: BTreeMap<String, u64>,
    pub by_aggregate_type: BTreeMap<String, u64>,
    pub by_domain_stream: BTreeMap<String, u64>,
}

/// Statistics and when they were counted.
#[derive(Debug, Clone)]
pub(super) struct Counted {
    at: Instant,
    statistics: Statistics,
}

impl EventStore {
    /// The statistics, counted at most `FRESH_FOR` ago. Callers that arrive while they are
    /// being counted wait for that count instead of starting their own.
    pub async fn statistics(&self) -> Result<Statistics> {
        let mut cached = self.statistics.lock().await;
        if let Some(counted) = cached.as_ref().filter(|c| c.at.elapsed() < FRESH_FOR) {
            return Ok(counted.statistics.clone());
        }
        let statistics = self.count_statistics().await?;
        *cached = Some(Counted {
            at: Instant::now(),
            statistics: statistics.clone(),
        });
        Ok(statistics)
    }

    async fn count_statistics(&self) -> Result<Statistics> {
        let by_event_type = self.grouped("eventType").await?;
        let by_aggregate_type = self.grouped("aggregateType").await?;
        let last_position = self.max_position().await?;
        Ok(Statistics {
            total: u64::try_from(last_position).unwrap_or(0),
            last_position,
            by_domain_stream: per_domain_stream(&by_event_type),
            by_event_type,
            by_aggregate_type,
        })
    }

    async fn grouped(&self, field: &str) -> Result<BTreeMap<String, u64>> {
        let rows = self.aggregate(shapes::count_by(field)).await?;
        Ok(rows
            .iter()
            .filter_map(|row| {
                let key = row.get_str("_id").ok()?.to_owned();
                Some((key, number(row.get("count")?)))
            })
            .collect())
    }

    async fn aggregate(&self, pipeline: Vec<Document>) -> Result<Vec<Document>> {
        Ok(self
            .raw
            .aggregate(pipeline)
            .with_options(shapes::aggregate())
            .await?
            .try_collect()
            .await?)
    }
}

/// Events per Redis domain stream, from the events per type.
fn per_domain_stream(by_event_type: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    let mut streams = BTreeMap::new();
    for (event_type, count) in by_event_type {
        *streams
            .entry(placement::domain_stream(event_type).to_owned())
            .or_default() += count;
    }
    streams
}

/// Counts come back as 32- or 64-bit integers (or doubles, from some servers).
pub(super) fn number(value: &Bson) -> u64 {
    match value {
        Bson::Int32(n) => u64::try_from(*n).unwrap_or(0),
        Bson::Int64(n) => u64::try_from(*n).unwrap_or(0),
        Bson::Double(n) if *n >= 0.0 => *n as u64,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_streams_add_up_the_types_they_mirror() {
        let by_type = BTreeMap::from([
            ("COMPLAINT_CREATED".to_owned(), 3),
            ("COMPLAINT_ARCHIVED".to_owned(), 1),
            ("SAGA_STARTED".to_owned(), 2),
            ("INVOICE_PAID".to_owned(), 5),
        ]);
        assert_eq!(
            per_domain_stream(&by_type),
            BTreeMap::from([
                ("complaints-stream".to_owned(), 4),
                ("saga-stream".to_owned(), 2),
                ("errors-stream".to_owned(), 5),
            ])
        );
    }
}
