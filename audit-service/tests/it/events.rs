//! The audit tests' view of events: the event fixtures are shared
//! (`shared::test_support::events`); here, how the API shows their ids.

use serde_json::Value;
use shared::event::Envelope;

pub use shared::test_support::events::{at, correlation, event};

/// The `eventId`s of entries as the API shows them.
pub fn ids(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .map(|e| e["eventId"].as_str().expect("an eventId").to_owned())
        .collect()
}

pub fn id(event: &Envelope) -> String {
    event.event_id.to_string()
}
