//! An event tap: a queue of the test's own (exclusive, gone with its connection) bound to one
//! or more exchanges, recording every event that arrives with the routing key it came with,
//! so a test can assert on what a service published.

use super::{eventually, TestVhost, WAIT};
use crate::event::{Envelope, EventType};
use futures_util::StreamExt;
use serde_json::Value;
use std::sync::{Arc, Mutex};

/// One event as it arrived.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub routing_key: String,
    pub envelope: Envelope,
}

pub struct EventTap {
    seen: Arc<Mutex<Vec<Delivered>>>,
    _connection: lapin::Connection,
}

impl EventTap {
    /// Binds to every routing key of `exchange`. The exchange must exist: the test vhost
    /// declares the suite's exchanges when it is made.
    pub async fn bind_to(vhost: &TestVhost, exchange: &str) -> EventTap {
        Self::bind_to_all(vhost, &[exchange]).await
    }

    /// One queue bound to several exchanges: the events of all of them, in arrival order.
    pub async fn bind_to_all(vhost: &TestVhost, exchanges: &[&str]) -> EventTap {
        let bindings: Vec<(&str, &str)> = exchanges.iter().map(|e| (*e, "#")).collect();
        let (connection, mut consumer) = vhost.tap_all(&bindings, true).await;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        tokio::spawn(async move {
            while let Some(Ok(delivery)) = consumer.next().await {
                // What is not an envelope is no event; the tests that send such messages
                // assert on where they end up (the dead-letter queue), not on a tap.
                let Ok(envelope) = serde_json::from_slice::<Envelope>(&delivery.data) else {
                    continue;
                };
                sink.lock().expect("the tap lock").push(Delivered {
                    routing_key: delivery.routing_key.as_str().to_owned(),
                    envelope,
                });
            }
        });
        EventTap {
            seen,
            _connection: connection,
        }
    }

    /// Every event so far, with its routing key, in arrival order.
    pub fn seen(&self) -> Vec<Delivered> {
        self.seen.lock().expect("the tap lock").clone()
    }

    /// Every event so far, in arrival order.
    pub fn events(&self) -> Vec<Envelope> {
        self.seen().into_iter().map(|d| d.envelope).collect()
    }

    /// The events of `event_type` whose data matches `predicate`.
    pub fn matching(&self, event_type: &str, predicate: impl Fn(&Value) -> bool) -> Vec<Envelope> {
        self.events()
            .into_iter()
            .filter(|e| e.event_type == event_type && predicate(&e.event_data))
            .collect()
    }

    /// Waits until `count` events have arrived; returns them in arrival order.
    pub async fn received(&self, count: usize) -> Vec<Envelope> {
        eventually(&format!("{count} events on the tap"), WAIT, || async {
            let events = self.events();
            (events.len() >= count).then_some(events)
        })
        .await
    }

    /// Waits for an event of `event_type` whose data matches `predicate`.
    pub async fn wait_for(&self, event_type: &str, predicate: impl Fn(&Value) -> bool) -> Envelope {
        let predicate = &predicate;
        eventually(&format!("a {event_type}"), WAIT, || async move {
            self.matching(event_type, predicate).into_iter().next()
        })
        .await
    }

    /// Waits for `count` events of `event_type` whose data matches `predicate`.
    pub async fn wait_for_count(
        &self,
        event_type: &str,
        count: usize,
        predicate: impl Fn(&Value) -> bool,
    ) -> Vec<Envelope> {
        let predicate = &predicate;
        eventually(&format!("{count} {event_type}"), WAIT, || async move {
            let found = self.matching(event_type, predicate);
            (found.len() >= count).then_some(found)
        })
        .await
    }

    /// Waits for the event of `event_type` published about `aggregate_id`.
    pub async fn published(&self, aggregate_id: &str, event_type: EventType) -> Envelope {
        eventually(&format!("{event_type} published"), WAIT, || async {
            self.events()
                .into_iter()
                .find(|e| e.aggregate_id == aggregate_id && e.event_type == event_type.as_str())
        })
        .await
    }
}
