//! event-store-service: a complaint's stream, the global log by correlation id, and the
//! state rebuilt from the stream.

use crate::suite::{Suite, WAIT};
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde::Deserialize;
use shared::{complaint::Complaint, event::Envelope, test_support::eventually};

/// An event as the log stored it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredEvent {
    pub stream_id: String,
    pub stored_at: DateTime<Utc>,
    #[serde(flatten)]
    pub envelope: Envelope,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StreamPage {
    events: Vec<StoredEvent>,
    next_from_version: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AllPage {
    events: Vec<StoredEvent>,
    next_after: i64,
    has_more: bool,
}

/// A complaint rebuilt by the event store from its stream.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RebuiltState {
    pub version: i64,
    pub event_count: usize,
    pub state: Complaint,
}

/// The stream id of a complaint (`<aggregateType>-<aggregateId>`).
pub fn complaint_stream(id: &str) -> String {
    format!("Complaint-{id}")
}

impl Suite {
    /// Every event of complaint `id`'s stream, in the order the log returns them (empty if
    /// it has none yet).
    pub async fn stream(&self, id: &str) -> Vec<StoredEvent> {
        let stream = complaint_stream(id);
        let mut events = Vec::new();
        let mut from = 1;
        loop {
            let reply = self
                .get(
                    &self.event_store,
                    &format!("/api/events/stream/{stream}?fromVersion={from}&limit=1000"),
                )
                .await;
            if reply.status == StatusCode::NOT_FOUND && from == 1 {
                return events;
            }
            let page: StreamPage = reply.expect_json("a stream page");
            events.extend(page.events);
            match page.next_from_version {
                Some(next) => from = next,
                None => return events,
            }
        }
    }

    /// Waits until complaint `id`'s stream holds `version` events.
    pub async fn stream_at(&self, id: &str, version: i64) -> Vec<StoredEvent> {
        eventually(
            &format!("the event store's stream of {id} at version {version}"),
            WAIT,
            || async {
                let events = self.stream(id).await;
                (events.len() as i64 >= version).then_some(events)
            },
        )
        .await
    }

    /// Every event of the global log matching `query` (e.g. `correlationId=…`), in log order.
    pub async fn logged(&self, query: &str) -> Vec<StoredEvent> {
        let mut events = Vec::new();
        let mut after = 0;
        loop {
            let page: AllPage = self
                .get(
                    &self.event_store,
                    &format!("/api/events/all?{query}&after={after}&limit=1000"),
                )
                .await
                .expect_json("a page of the log");
            events.extend(page.events);
            after = page.next_after;
            if !page.has_more {
                return events;
            }
        }
    }

    /// Every event with this correlation id, in log order.
    pub async fn logged_with_correlation(&self, correlation_id: &str) -> Vec<StoredEvent> {
        self.logged(&format!("correlationId={correlation_id}"))
            .await
    }

    /// Waits until the log holds an event of each of `event_types` with this correlation id;
    /// returns every event with it then.
    pub async fn logged_all_of(
        &self,
        correlation_id: &str,
        event_types: &[&str],
    ) -> Vec<StoredEvent> {
        eventually(
            &format!("{event_types:?} with correlation id {correlation_id} in the event store"),
            WAIT,
            || async {
                let events = self.logged_with_correlation(correlation_id).await;
                event_types
                    .iter()
                    .all(|t| events.iter().any(|e| e.envelope.event_type == *t))
                    .then_some(events)
            },
        )
        .await
    }

    /// The complaint as the event store rebuilds it from its stream.
    pub async fn rebuilt_state(&self, id: &str) -> RebuiltState {
        self.get(&self.event_store, &format!("/api/events/state/{id}"))
            .await
            .expect_json("the rebuilt state")
    }
}
