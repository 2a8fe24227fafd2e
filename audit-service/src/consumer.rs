//! The recorder: every event of every domain exchange, from the queue
//! `audit-service.all-events`, into the trail. Events of types this build does not know are
//! recorded too: the trail is of everything that was published.
//!
//! A batch of deliveries is written in one transaction (see `store::record`). If PostgreSQL
//! refuses the data of the batch, the events are written one by one, so only the event at
//! fault is dead-lettered and the others are recorded.

use crate::{error::AuditError, metrics, store::Store};
use chrono::Utc;
use shared::{
    event::Envelope,
    messaging::{Handler, HandlerError},
};

/// The queue, bound to every domain exchange.
pub const QUEUE: &str = "audit-service.all-events";

pub struct Recorder {
    store: Store,
}

impl Recorder {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    async fn record(&self, events: &[Envelope]) -> Result<(), AuditError> {
        let now = Utc::now();
        let recorded = self.store.record(events, now).await?;
        for entry in &recorded.entries {
            metrics::recorded(&entry.event_type, entry.occurred_at, now);
        }
        if recorded.marked > 0 {
            metrics::compensated(recorded.marked);
        }
        Ok(())
    }
}

impl Handler for Recorder {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        self.record(std::slice::from_ref(event))
            .await
            .map_err(into_handler_error)
    }

    async fn handle_batch(&self, events: &[Envelope]) -> Vec<Result<(), HandlerError>> {
        match self.record(events).await {
            Ok(()) => events.iter().map(|_| Ok(())).collect(),
            Err(error) if error.is_bad_data() && events.len() > 1 => {
                tracing::warn!(%error, "PostgreSQL refused a batch; recording its events one by one");
                let mut results = Vec::with_capacity(events.len());
                for event in events {
                    results.push(self.handle(event).await);
                }
                results
            }
            Err(error) => {
                let message = error.to_string();
                let permanent = error.is_bad_data();
                events
                    .iter()
                    .map(|_| {
                        let cause = anyhow::anyhow!("{message}");
                        Err(if permanent {
                            HandlerError::Permanent(cause)
                        } else {
                            HandlerError::Transient(cause)
                        })
                    })
                    .collect()
            }
        }
    }
}

fn into_handler_error(error: AuditError) -> HandlerError {
    if error.is_bad_data() {
        HandlerError::Permanent(error.into())
    } else {
        HandlerError::Transient(error.into())
    }
}
