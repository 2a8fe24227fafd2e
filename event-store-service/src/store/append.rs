//! Appending a batch of events: exactly once per `eventId`, numbered with contiguous global
//! positions.
//!
//! # The position scheme
//!
//! Positions are 1, 2, 3, … with no hole, and at any moment the stored positions are a prefix
//! 1..=N of that sequence. Readers page `all` with `position > cursor`, which can then never
//! skip an event that becomes visible later, nor see one twice.
//!
//! How: the appender numbers a batch from the next free position (`max(position) + 1`, read
//! from the unique `position` index once and then kept in memory) and writes it with one
//! **ordered** `insert_many`. An ordered insert stops at the first failing document, so what
//! got stored is always a prefix of the batch: the positions stay a prefix too, also when the
//! process dies mid-write (a redelivery finds the stored part as duplicates). The documents
//! after a failure are renumbered from the first unused position and written again; the one
//! that failed is classified by asking the collection (never by parsing the server's message,
//! which the stand-in words differently):
//! - its `eventId` is stored: a redelivery, a no-op success (and so is every other document of
//!   the batch already stored, each found with an indexed `$eq` lookup: an `$in` would read
//!   the whole collection on the stand-in);
//! - its position is taken: another writer got there first (a zombie instance during a
//!   single-active-consumer failover): forget the remembered position, re-read it, retry;
//! - its `(streamId, version)` belongs to another event: a conflict, refused for good;
//! - none of these: the write failed for a reason of its own (too large, invalid keys).
//!
//! A counter document reserved per batch (`$inc` by the batch size) would leave holes for
//! every duplicate and every crash between the reservation and the insert, and with
//! `unordered` inserts a reader could see position 10 before 9 is written. Deriving the next
//! position from the data avoids both without transactions, which the stand-in does not
//! isolate: a reader sees a transaction's documents before it commits (BENCHMARKS.md, fifth
//! session on issue 11).
//!
//! Within one instance the appender is behind a mutex, so its partitions' batches append one
//! after the other; several instances (partitioned ingestion, ARCHITECTURE.md "Scaling") each
//! append on their own, and the unique `position` index turns their races into the retry
//! above: safe, not faster.

use super::{shapes, EventDocument, EventStore};
use crate::metrics;
use futures_util::{stream, StreamExt, TryStreamExt};
use mongodb::{
    bson::{doc, Bson},
    error::{Error as MongoError, ErrorKind},
};
use std::{
    collections::HashSet,
    time::{Duration, Instant},
};

/// MongoDB's duplicate-key error code (also the stand-in's).
const DUPLICATE_KEY: i32 = 11000;
/// Rounds of "someone else took that position" before giving the batch back as transient.
const MAX_POSITION_RACES: u32 = 5;
/// How long one `insert_many` may take before its outcome counts as unknown (the insert
/// command has no `maxTimeMS`). A batch of 500 takes about 0.1 s on the stand-in.
const WRITE_TIME_LIMIT: Duration = Duration::from_secs(30);
/// `eventId` lookups in flight at once when classifying a duplicate.
const LOOKUPS_IN_FLIGHT: usize = 8;

/// What became of one document of a batch.
#[derive(Debug, Clone)]
pub enum Appended {
    /// Newly stored at this position.
    Stored(i64),
    /// Its `eventId` was already stored: nothing to do.
    Duplicate,
    /// Another event (this `eventId`) holds its version of its stream.
    Conflict { holder: String },
    /// MongoDB refused this document itself (it would refuse it again).
    Refused(String),
    /// The write did not happen or its outcome is unknown: worth another try.
    Failed(String),
}

/// How the first failed document of an ordered insert failed.
enum FirstFailure {
    DuplicateKey,
    Other(String),
}

impl EventStore {
    /// Appends `documents` in order; one outcome per document. Their positions are set on
    /// the way: those of the documents stored are their stored positions.
    pub async fn append(&self, documents: &mut [EventDocument]) -> Vec<Appended> {
        let mut outcomes: Vec<Option<Appended>> = vec![None; documents.len()];
        let mut pending: Vec<usize> = (0..documents.len()).collect();
        let mut races = 0;
        let mut next_position = self.next_position.lock().await;
        while !pending.is_empty() {
            let next = match *next_position {
                Some(next) => next,
                None => match self.max_position().await {
                    Ok(max) => max + 1,
                    Err(error) => {
                        fail_all(&mut outcomes, &pending, error);
                        break;
                    }
                },
            };
            for (offset, &i) in pending.iter().enumerate() {
                documents[i].position = next + offset as i64;
            }
            let started = Instant::now();
            let insert = self
                .events
                .insert_many(pending.iter().map(|&i| &documents[i]))
                .ordered(true);
            let written = tokio::time::timeout(WRITE_TIME_LIMIT, insert).await;
            metrics::mongo_write(started.elapsed());
            let written = match written {
                Ok(written) => written,
                Err(_) => {
                    // Like a lost connection: the outcome is unknown (see below).
                    *next_position = None;
                    let error = format!("no answer to the insert within {WRITE_TIME_LIMIT:?}");
                    fail_all(&mut outcomes, &pending, error);
                    break;
                }
            };
            let (stored, failure) = match written {
                Ok(_) => (pending.len(), None),
                Err(error) => match first_failure(&error) {
                    Some((index, kind)) => (index, Some(kind)),
                    None => {
                        // Connection lost, timeout, write concern: the outcome is unknown, so
                        // the remembered position is too. A retry will find what was stored.
                        *next_position = None;
                        fail_all(&mut outcomes, &pending, error);
                        break;
                    }
                },
            };
            for &i in &pending[..stored] {
                outcomes[i] = Some(Appended::Stored(documents[i].position));
            }
            *next_position = Some(next + stored as i64);
            let rest = pending.split_off(stored);
            let Some(failure) = failure else { break };
            let failed = rest[0];
            match failure {
                FirstFailure::Other(message) => outcomes[failed] = Some(Appended::Refused(message)),
                FirstFailure::DuplicateKey => {
                    match self
                        .classify_duplicate(documents, &rest, &mut outcomes)
                        .await
                    {
                        Ok(Clash::EventId) => {}
                        Ok(Clash::Version(holder)) => {
                            outcomes[failed] = Some(Appended::Conflict { holder })
                        }
                        Ok(Clash::Unexplained) => {
                            // Nothing holds any of its keys (any more): try again later.
                            *next_position = None;
                            let error = "a duplicate key that no stored event explains";
                            fail_all(&mut outcomes, &rest[..1], error);
                        }
                        Ok(Clash::Position) if races < MAX_POSITION_RACES => {
                            races += 1;
                            *next_position = None;
                        }
                        Ok(Clash::Position) => {
                            *next_position = None;
                            let error = "other writers kept taking the next position";
                            fail_all(&mut outcomes, &rest, error);
                        }
                        Err(error) => fail_all(&mut outcomes, &rest, error),
                    }
                }
            }
            pending = rest
                .into_iter()
                .filter(|&i| outcomes[i].is_none())
                .collect();
        }
        outcomes
            .into_iter()
            .map(|outcome| outcome.unwrap_or_else(|| Appended::Failed("not attempted".to_owned())))
            .collect()
    }

    /// Why `rest[0]` hit a unique index. Marks every document of `rest` whose `eventId` is
    /// already stored as a duplicate on the way.
    async fn classify_duplicate(
        &self,
        documents: &[EventDocument],
        rest: &[usize],
        outcomes: &mut [Option<Appended>],
    ) -> Result<Clash, MongoError> {
        let ids: Vec<&str> = rest
            .iter()
            .map(|&i| documents[i].event_id.as_str())
            .collect();
        let stored = self.stored_event_ids(&ids).await?;
        for &i in rest {
            if stored.contains(&documents[i].event_id) {
                outcomes[i] = Some(Appended::Duplicate);
            }
        }
        let failed = &documents[rest[0]];
        if stored.contains(&failed.event_id) {
            return Ok(Clash::EventId);
        }
        if self.position_taken(failed.position).await? {
            return Ok(Clash::Position);
        }
        let holder = match failed.unique_version {
            Some(version) => self.version_holder(&failed.stream_id, version).await?,
            None => None,
        };
        Ok(holder.map_or(Clash::Unexplained, Clash::Version))
    }

    /// Which of `ids` are stored: one indexed lookup each, a few at a time.
    async fn stored_event_ids(&self, ids: &[&str]) -> Result<HashSet<String>, MongoError> {
        let mut lookups = Vec::with_capacity(ids.len());
        for &id in ids {
            let lookup = self
                .raw
                .find_one(shapes::event_id(id))
                .with_options(shapes::find_one(doc! { "_id": 1 }, None));
            let id = id.to_owned();
            lookups.push(async move { Ok::<_, MongoError>(lookup.await?.map(|_| id)) });
        }
        let found: Vec<Option<String>> = stream::iter(lookups)
            .buffer_unordered(LOOKUPS_IN_FLIGHT)
            .try_collect()
            .await?;
        Ok(found.into_iter().flatten().collect())
    }

    async fn position_taken(&self, position: i64) -> Result<bool, MongoError> {
        Ok(self
            .raw
            .find_one(shapes::position(position))
            .with_options(shapes::find_one(doc! { "_id": 1 }, None))
            .await?
            .is_some())
    }

    async fn version_holder(
        &self,
        stream_id: &str,
        version: i64,
    ) -> Result<Option<String>, MongoError> {
        Ok(self
            .raw
            .find_one(shapes::version_holder(stream_id, version))
            .with_options(shapes::find_one(doc! { "_id": 0, "eventId": 1 }, None))
            .await?
            .and_then(|d| d.get_str("eventId").ok().map(str::to_owned)))
    }

    /// The highest stored position, 0 for an empty log.
    pub async fn max_position(&self) -> Result<i64, MongoError> {
        let last = self
            .raw
            .find_one(doc! {})
            .with_options(shapes::find_one(
                doc! { "_id": 0, "position": 1 },
                Some(doc! { "position": -1 }),
            ))
            .await?;
        // The stand-in returns small numbers as 32-bit integers, MongoDB as they were written.
        Ok(last
            .and_then(|d| match d.get("position") {
                Some(Bson::Int64(n)) => Some(*n),
                Some(Bson::Int32(n)) => Some(i64::from(*n)),
                _ => None,
            })
            .unwrap_or(0))
    }
}

enum Clash {
    EventId,
    Position,
    /// The `eventId` of the event holding the version.
    Version(String),
    Unexplained,
}

/// The index (in the insert) and kind of the first failed document of an ordered insert, or
/// `None` if the error is not about single documents.
fn first_failure(error: &MongoError) -> Option<(usize, FirstFailure)> {
    let ErrorKind::InsertMany(failure) = error.kind.as_ref() else {
        return None;
    };
    if failure.write_concern_error.is_some() {
        return None;
    }
    let first = failure
        .write_errors
        .as_ref()?
        .iter()
        .min_by_key(|e| e.index)?;
    let kind = if first.code == DUPLICATE_KEY {
        FirstFailure::DuplicateKey
    } else {
        FirstFailure::Other(format!(
            "MongoDB refused the document (code {}): {}",
            first.code, first.message
        ))
    };
    Some((first.index, kind))
}

fn fail_all(outcomes: &mut [Option<Appended>], indexes: &[usize], error: impl std::fmt::Display) {
    let reason = format!("MongoDB: {error}");
    for &i in indexes {
        if outcomes[i].is_none() {
            outcomes[i] = Some(Appended::Failed(reason.clone()));
        }
    }
}
