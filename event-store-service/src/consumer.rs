//! Ingestion: every event of every domain exchange, into the log exactly once, then into its
//! Redis domain stream.
//!
//! The shared consumer loop hands over batches of whatever deliveries are ready and acks them
//! after [`Ingestion::handle_batch`] returns, so an event is acked only once it is in MongoDB.
//! Per event:
//! - stored, or already stored (a redelivery; also a second copy within the same batch): ok;
//! - a version of a complaint stream already held by another event: dead-lettered at once
//!   (a fork of the stream, which retrying cannot mend; an operator decides);
//! - refused by MongoDB for its content, or invalid (no aggregate id…): dead-lettered;
//! - MongoDB unavailable: transient, retried with backoff, then dead-lettered.
//!
//! Events of types the catalogue does not know are stored like any other: this is the log of
//! everything. Mirroring to Redis never fails a batch (see `streams/mirror.rs`).

use crate::{
    metrics, placement,
    store::{Appended, EventDocument, EventStore},
    streams::Mirror,
};
use chrono::Utc;
use shared::{
    event::Envelope,
    messaging::{Handler, HandlerError, QueueSpec, RetryPolicy, Topology},
};
use std::{collections::HashMap, sync::Arc};

/// The one queue of the service, bound to every domain exchange.
pub const QUEUE: &str = "event-store-service.all-events";

/// The service's RabbitMQ topology (benchmarks and tests declare it before the service runs).
pub fn topology(retry: RetryPolicy) -> Topology {
    Topology::new(retry).with_queue(QueueSpec::new(QUEUE).bind_all_domain_events())
}

pub struct Ingestion {
    store: Arc<EventStore>,
    mirror: Arc<Mirror>,
}

impl Ingestion {
    pub fn new(store: Arc<EventStore>, mirror: Arc<Mirror>) -> Self {
        Self { store, mirror }
    }
}

impl Handler for Ingestion {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        self.handle_batch(std::slice::from_ref(event))
            .await
            .pop()
            .unwrap_or(Ok(()))
    }

    async fn handle_batch(&self, events: &[Envelope]) -> Vec<Result<(), HandlerError>> {
        metrics::batch_size(events.len());
        let now = Utc::now();
        let plan = plan(events);
        let mut documents: Vec<EventDocument> = plan
            .iter()
            .zip(events)
            .filter(|(step, _)| matches!(step, Step::Write))
            .map(|(_, event)| EventDocument::new(event, now))
            .collect();
        let mut appended = self.store.append(&mut documents).await.into_iter();

        let mut verdicts: Vec<Verdict> = Vec::with_capacity(events.len());
        let mut stored: Vec<EventDocument> = Vec::new();
        let mut written = documents.into_iter();
        for step in &plan {
            let verdict = match step {
                Step::Write => {
                    let document = written.next();
                    let outcome = appended.next();
                    match (outcome, document) {
                        (Some(Appended::Stored(_)), Some(document)) => {
                            let lag = (now - document.metadata.timestamp)
                                .to_std()
                                .unwrap_or_default();
                            metrics::ingestion_lag(lag);
                            stored.push(document);
                            Verdict::Stored
                        }
                        (Some(Appended::Duplicate), _) => Verdict::Duplicate,
                        (Some(Appended::Conflict { holder }), Some(document)) => {
                            Verdict::Conflict(conflict_reason(&document, &holder))
                        }
                        (Some(Appended::Refused(reason)), _) => Verdict::Refused(reason),
                        (Some(Appended::Failed(reason)), _) => Verdict::Failed(reason),
                        _ => Verdict::Failed("the store gave no outcome".to_owned()),
                    }
                }
                Step::SameAs(first) => verdicts[*first].again(),
                Step::Invalid(reason) => Verdict::Refused(reason.clone()),
            };
            verdicts.push(verdict);
        }

        stored.sort_by_key(|e| e.position);
        metrics::add_events(stored.len() as u64);
        self.mirror.offer(&stored).await;

        let mut tally: HashMap<&'static str, u64> = HashMap::new();
        let results = verdicts
            .into_iter()
            .map(|verdict| {
                *tally.entry(verdict.outcome()).or_default() += 1;
                verdict.into_result()
            })
            .collect();
        for (outcome, count) in tally {
            metrics::operation("ingest", outcome, count);
        }
        results
    }
}

/// What to do with each event of a batch, before any IO.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Write,
    /// The same `eventId` as the event at this earlier index of the batch: share its fate.
    SameAs(usize),
    Invalid(String),
}

fn plan(events: &[Envelope]) -> Vec<Step> {
    let mut first_seen = HashMap::new();
    events
        .iter()
        .enumerate()
        .map(|(i, event)| {
            if let Some(&first) = first_seen.get(&event.event_id) {
                return Step::SameAs(first);
            }
            first_seen.insert(event.event_id, i);
            match placement::validate(
                &event.event_type,
                &event.aggregate_type,
                &event.aggregate_id,
                event.metadata.version,
            ) {
                Ok(()) => Step::Write,
                Err(invalid) => Step::Invalid(invalid.to_string()),
            }
        })
        .collect()
}

fn conflict_reason(document: &EventDocument, holder: &str) -> String {
    format!(
        "version conflict: version {} of stream {} is already held by event {holder}; storing event {} too would fork the stream",
        document.version, document.stream_id, document.event_id
    )
}

#[derive(Debug, Clone)]
enum Verdict {
    Stored,
    Duplicate,
    Conflict(String),
    Refused(String),
    Failed(String),
}

impl Verdict {
    /// The verdict for a second copy of the same event in the batch.
    fn again(&self) -> Self {
        match self {
            Self::Stored | Self::Duplicate => Self::Duplicate,
            other => other.clone(),
        }
    }

    fn outcome(&self) -> &'static str {
        match self {
            Self::Stored => "stored",
            Self::Duplicate => "duplicate",
            Self::Conflict(_) => "conflict",
            Self::Refused(_) => "refused",
            Self::Failed(_) => "failed",
        }
    }

    fn into_result(self) -> Result<(), HandlerError> {
        match self {
            Self::Stored | Self::Duplicate => Ok(()),
            Self::Conflict(reason) | Self::Refused(reason) => {
                Err(HandlerError::Permanent(anyhow::anyhow!(reason)))
            }
            Self::Failed(reason) => Err(HandlerError::Transient(anyhow::anyhow!(reason))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use shared::event::{EventType, Metadata};

    fn event(aggregate_id: &str, version: i64) -> Envelope {
        Envelope::new(
            EventType::ComplaintAssigned,
            aggregate_id,
            "Complaint",
            json!({}),
            Metadata::new("complaint-service", "c".into(), Utc::now()).with_version(version),
        )
    }

    #[test]
    fn a_second_copy_in_the_same_batch_shares_the_first_ones_fate() {
        let a = event("c-1", 1);
        let b = event("c-2", 1);
        let steps = plan(&[a.clone(), b, a]);
        assert_eq!(steps, [Step::Write, Step::Write, Step::SameAs(0)]);
        assert!(matches!(Verdict::Stored.again(), Verdict::Duplicate));
        assert!(matches!(
            Verdict::Failed("x".into()).again(),
            Verdict::Failed(_)
        ));
    }

    #[test]
    fn invalid_events_are_refused_before_any_write() {
        let steps = plan(&[event("", 1), event("c-1", 0)]);
        assert!(matches!(&steps[0], Step::Invalid(reason) if reason.contains("aggregateId")));
        assert!(matches!(&steps[1], Step::Invalid(reason) if reason.contains("version 0")));
    }

    #[test]
    fn conflicts_and_refusals_are_permanent_failures_transient_ones_are_not() {
        assert!(matches!(
            Verdict::Conflict("c".into()).into_result(),
            Err(HandlerError::Permanent(_))
        ));
        assert!(matches!(
            Verdict::Failed("f".into()).into_result(),
            Err(HandlerError::Transient(_))
        ));
        assert!(Verdict::Duplicate.into_result().is_ok());
    }
}
