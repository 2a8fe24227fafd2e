//! Every metric this service records, in one place. Labels are bounded: operation and outcome
//! names from this file, replay targets `redis`/`exchange`; never ids or stream names.

use std::time::Duration;

/// `event_store_operations_total{operation, outcome}`.
pub fn operation(operation: &'static str, outcome: &'static str, count: u64) {
    if count > 0 {
        metrics::counter!("event_store_operations_total", "operation" => operation, "outcome" => outcome)
            .increment(count);
    }
}

/// `event_store_event_count`: events in the log, as last counted (or counted up since).
pub fn set_event_count(count: u64) {
    metrics::gauge!("event_store_event_count").set(count as f64);
}

pub fn add_events(count: u64) {
    metrics::gauge!("event_store_event_count").increment(count as f64);
}

/// `event_store_ingestion_lag_seconds`: from the event's timestamp to its storage.
pub fn ingestion_lag(lag: Duration) {
    metrics::histogram!("event_store_ingestion_lag_seconds").record(lag.as_secs_f64());
}

/// `event_store_batch_size`: events handed to one ingestion write. (The process-wide buckets
/// are made for seconds; `_sum / _count` gives the mean batch size.)
pub fn batch_size(size: usize) {
    metrics::histogram!("event_store_batch_size").record(size as f64);
}

/// `event_store_mongo_write_seconds`: time spent waiting on MongoDB for ingestion writes.
pub fn mongo_write(elapsed: Duration) {
    metrics::histogram!("event_store_mongo_write_seconds").record(elapsed.as_secs_f64());
}

/// `event_store_redis_write_seconds`: time spent waiting on Redis to mirror stored events.
pub fn redis_write(elapsed: Duration) {
    metrics::histogram!("event_store_redis_write_seconds").record(elapsed.as_secs_f64());
}

/// `event_store_replay_duration_seconds{target}` and `event_store_replayed_events_total{target}`.
pub fn replay(target: &'static str, events: u64, elapsed: Duration) {
    metrics::histogram!("event_store_replay_duration_seconds", "target" => target)
        .record(elapsed.as_secs_f64());
    metrics::counter!("event_store_replayed_events_total", "target" => target).increment(events);
}
