//! The payloads of the `MONITORING_*` events (on `monitoring.events`). Each announces the start
//! (or, for a circuit, the end) of an episode, once, not every observation during it.

use serde::{Deserialize, Serialize};

/// MONITORING_CONSUMER_LAG_HIGH: work waits in a queue longer (or deeper) than it should.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerLagHigh {
    pub service: String,
    pub queue: String,
    /// Messages ready in the queue when the episode began.
    pub messages: u32,
    pub threshold: u32,
}

/// MONITORING_DLQ_GROWING: messages are arriving in a dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DlqGrowing {
    pub service: String,
    pub queue: String,
    pub dead_letter_queue: String,
    /// Messages in the DLQ before the episode, and when it was raised.
    pub from: u32,
    pub messages: u32,
}

/// MONITORING_CIRCUIT_OPENED / MONITORING_CIRCUIT_CLOSED.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CircuitChanged {
    pub service: String,
    /// What the circuit guards, e.g. `smtp`.
    pub circuit: String,
    /// `OPEN` or `CLOSED`.
    pub state: String,
    /// Why it opened, or how long it was open when it closed.
    pub detail: String,
}

/// MONITORING_SERVICE_DEGRADED: a dependency has been down longer than the threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDegraded {
    pub service: String,
    pub dependency: String,
    pub down_for_seconds: u64,
}
