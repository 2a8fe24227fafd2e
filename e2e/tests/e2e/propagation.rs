//! How long a command takes to be seen everywhere: creates at a steady rate, then, from the
//! timestamps the services record, the time from the command's commit (its event's
//! timestamp) until its event is stored in the event store, recorded in the audit trail and
//! has led to a notification in the history. Each service's timestamp is taken when it
//! writes, so reading the results afterwards adds nothing to the figures.
//!
//! By default a short run (50 creates at 25/s) checks that every create propagates and
//! prints the figures (`--nocapture`); `E2E_BENCH_RATE` (commands/s) and `E2E_BENCH_SECONDS`
//! make it the benchmark of issue 6 (200/s for 60 s).

use crate::{
    api::complaints::new_complaint,
    suite::{Suite, WAIT},
};
use chrono::{DateTime, Utc};
use futures_util::{stream::FuturesUnordered, StreamExt};
use shared::test_support::{env_or, eventually};
use std::{
    collections::HashMap,
    time::{Duration, Instant},
};
use tokio::time::MissedTickBehavior;

struct Load {
    rate: f64,
    seconds: f64,
}

impl Load {
    fn from_env() -> Self {
        let number = |name: &str, default: &str| {
            env_or(name, default)
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("{name} is a number"))
        };
        Self {
            rate: number("E2E_BENCH_RATE", "25"),
            seconds: number("E2E_BENCH_SECONDS", "2"),
        }
    }

    fn commands(&self) -> usize {
        (self.rate * self.seconds).round() as usize
    }
}

/// Percentiles of a sample, in milliseconds.
struct Figures {
    what: &'static str,
    sorted: Vec<f64>,
}

impl Figures {
    fn new(what: &'static str, mut sample: Vec<f64>) -> Self {
        sample.sort_by(f64::total_cmp);
        Self {
            what,
            sorted: sample,
        }
    }

    fn percentile(&self, p: f64) -> f64 {
        let rank = ((p / 100.0) * self.sorted.len() as f64).ceil() as usize;
        self.sorted[rank.clamp(1, self.sorted.len()) - 1]
    }

    fn line(&self) -> String {
        format!(
            "{:<34} p50 {:>8.1} ms   p99 {:>8.1} ms   max {:>8.1} ms   (n={})",
            self.what,
            self.percentile(50.0),
            self.percentile(99.0),
            self.sorted.last().copied().unwrap_or(0.0),
            self.sorted.len()
        )
    }
}

fn millis(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0
}

/// Sends `load.commands()` creates on a fixed schedule (open loop: a slow answer does not
/// delay the next command); returns each one's round trip in milliseconds.
async fn send(suite: &Suite, load: &Load) -> Vec<f64> {
    let total = load.commands();
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / load.rate));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut in_flight = FuturesUnordered::new();
    let mut round_trips = Vec::with_capacity(total);
    let mut sent = 0;
    while sent < total || !in_flight.is_empty() {
        tokio::select! {
            _ = ticks.tick(), if sent < total => {
                sent += 1;
                let title = format!("Charged twice for order {sent}");
                in_flight.push(async move {
                    let started = Instant::now();
                    suite.create_complaint(new_complaint(&title, "HIGH")).await;
                    started.elapsed().as_secs_f64() * 1000.0
                });
            }
            Some(round_trip) = in_flight.next(), if !in_flight.is_empty() => {
                round_trips.push(round_trip);
            }
        }
    }
    round_trips
}

#[tokio::test]
async fn every_command_propagates_and_the_time_it_takes_is_reported() {
    let suite = Suite::start().await;
    let load = Load::from_env();
    let total = load.commands();
    let began = Instant::now();
    let round_trips = send(&suite, &load).await;
    let sending = began.elapsed();
    let wait = WAIT.max(Duration::from_secs_f64(load.seconds * 2.0));

    // The commit time of each create, and when the event store stored it.
    let logged = eventually("every create in the event store", wait, || async {
        let events = suite.logged("eventType=COMPLAINT_CREATED").await;
        (events.len() >= total).then_some(events)
    })
    .await;
    // Per complaint: when its create committed, and when the event store stored it.
    let committed: HashMap<&str, (DateTime<Utc>, DateTime<Utc>)> = logged
        .iter()
        .map(|e| {
            let event = &e.envelope;
            (
                event.aggregate_id.as_str(),
                (event.metadata.timestamp, e.stored_at),
            )
        })
        .collect();
    assert_eq!(committed.len(), total, "each create stored once");

    let audited = eventually("every create in the audit trail", wait, || async {
        let entries = suite.audited_of_type("COMPLAINT_CREATED").await;
        (entries.len() >= total).then_some(entries)
    })
    .await;
    assert_eq!(audited.len(), total, "each create recorded once");
    let recorded: HashMap<&str, DateTime<Utc>> = audited
        .iter()
        .map(|e| (e.aggregate_id.as_str(), e.recorded_at))
        .collect();

    let acknowledged = eventually("every acknowledgement in the history", wait, || async {
        let history = suite.notifications_of_step("acknowledgement").await;
        (history.len() >= total).then_some(history)
    })
    .await;
    assert_eq!(acknowledged.len(), total, "one acknowledgement per create");
    let noted: HashMap<&str, DateTime<Utc>> = acknowledged
        .iter()
        .map(|n| (n.complaint_id.as_str(), n.created_at))
        .collect();

    let (mut stored, mut in_audit, mut in_history, mut everywhere) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (id, (committed_at, stored_at)) in &committed {
        let store_ms = millis(*committed_at, *stored_at);
        let audit_ms = millis(*committed_at, recorded[id]);
        let history_ms = millis(*committed_at, noted[id]);
        stored.push(store_ms);
        in_audit.push(audit_ms);
        in_history.push(history_ms);
        everywhere.push(store_ms.max(audit_ms).max(history_ms));
    }

    let report = [
        Figures::new("create round trip (client)", round_trips),
        Figures::new("commit -> event store", stored),
        Figures::new("commit -> audit trail", in_audit),
        Figures::new("commit -> notification history", in_history),
        Figures::new("commit -> all three", everywhere),
    ];
    eprintln!(
        "\npropagation: {total} creates at {}/s (sent in {:.1} s)",
        load.rate,
        sending.as_secs_f64()
    );
    for figures in &report {
        eprintln!("  {}", figures.line());
    }
    suite.stop().await;
}
