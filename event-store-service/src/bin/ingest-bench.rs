//! Ingestion and replay benchmark against the real servers (RabbitMQ, Redis, MongoDB or the
//! stand-in), on a fresh vhost, database and Redis prefix:
//!
//! ```text
//! cargo run --release -p event-store-service --features bench --bin ingest-bench -- [events] [stream]
//! ```
//!
//! 1. Baseline: appends `min(events, 20000)` documents straight to the store (no RabbitMQ, no
//!    Redis) in batches of 500: the database's own ceiling for our documents and indexes.
//! 2. Publishes a backlog of `events` events (default 100,000, including one complaint stream
//!    of `stream` events, default 10,000) while the service is down, then starts it and times
//!    the drain until every event is in MongoDB and mirrored to Redis. The service's metrics
//!    split the time into waiting on MongoDB, waiting on Redis, and the rest (ours and
//!    RabbitMQ's).
//! 3. Replays the big stream to a Redis stream, then to the `events.replay` exchange.
//!
//! The backlog is shaped for the read benchmarks too: event `i` is stamped `i` seconds after
//! the first (so a one-hour range holds 3,600 events), and besides the big stream about half
//! of the events are complaint lifecycles decided by the shared aggregate (created, assigned,
//! in progress, resolved, and every other one closed), which `/state` folds.
//!
//! Environment:
//! - `BENCH_KEEP=1` keeps the database, the Redis keys and the vhost and prints their names,
//!   to run the service on them afterwards (`APP_MONGO__DATABASE`, `APP_REDIS__STREAM_PREFIX`);
//! - `BENCH_BASELINE=0` skips step 1;
//! - `BENCH_STATISTICS=<ms>` requests `/api/events/statistics` during the drain, pausing
//!   `<ms>` between requests (0: back to back), and reports its latency: whether counting
//!   holds up ingestion shows in the drain rate.

use chrono::{DateTime, TimeDelta, Utc};
use event_store_service::{
    app::App,
    config::{Config, SERVICE},
    consumer,
    store::{EventDocument, EventStore},
};
use serde_json::json;
use shared::{
    complaint::{
        decide, evolve, AgentId, Category, Command, Complaint, ComplaintTitle, Contact, Customer,
        CustomerId, CustomerName, Description, Email, EventCodec, Policy, Priority, Resolution,
    },
    event::{Envelope, EventType, Metadata},
    messaging::Broker,
    test_support::{self, TestVhost},
};
use std::{
    io::Write,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};
use tokio_util::sync::CancellationToken;

const BASELINE_MAX: usize = 20_000;
const BATCH: usize = 500;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let total: usize = args.next().map_or(Ok(100_000), |a| a.parse())?;
    let stream_len: usize = args.next().map_or(Ok(10_000), |a| a.parse())?;
    let stream_len = stream_len.min(total);
    shared::telemetry::init_logging("warn");
    let metrics = shared::telemetry::metrics();

    let vhost = TestVhost::create().await;
    // In-process, like the tests: their token key, and a client that sends their token.
    let mut config = Config {
        auth: shared::test_support::auth::settings(),
        ..Config::default()
    };
    config.http.host = "127.0.0.1".into();
    config.http.port = 0;
    config.log_level = "warn".into();
    config.mongo.url = test_support::env_or("MONGODB_URL", "mongodb://127.0.0.1:27017");
    config.mongo.database = test_support::unique("bench_");
    config.redis.url = test_support::env_or("REDIS_URL", "redis://127.0.0.1:6379");
    config.redis.stream_prefix = format!("{}:", test_support::unique("bench:"));
    config.broker.url = vhost.amqp_url.clone();
    config.broker.service_name = SERVICE.into();

    let mongo = mongodb::Client::with_uri_str(&config.mongo.url).await?;
    report(&format!(
        "servers: MongoDB {}, database {}; RabbitMQ vhost {}; Redis prefix {}",
        config.mongo.url, config.mongo.database, vhost.name, config.redis.stream_prefix
    ));

    // 1. The database's ceiling.
    if std::env::var("BENCH_BASELINE").map_or(true, |v| v != "0") {
        let baseline_db = mongo.database(&test_support::unique("bench_baseline_"));
        let baseline = EventStore::new(&baseline_db);
        baseline.create_indexes().await?;
        let count = total.min(BASELINE_MAX);
        let now = Utc::now();
        let started = Instant::now();
        for chunk in backlog(count, 0).chunks(BATCH) {
            let mut documents: Vec<EventDocument> =
                chunk.iter().map(|e| EventDocument::new(e, now)).collect();
            baseline.append(&mut documents).await;
        }
        let elapsed = started.elapsed();
        report(&format!(
        "baseline: {count} events appended straight to MongoDB in batches of {BATCH}: {:.2} s, {:.0} events/s",
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64()
    ));
        baseline_db.drop().await?;
    }

    // 2. A backlog while the service is down.
    let events = backlog(total, stream_len);
    // Quorum work queues, as the service declares them (the test default is classic).
    let publisher = Broker::start(
        test_support::quorum_broker(&vhost, "bench-publisher"),
        consumer::topology(config.broker.retry.clone()),
    );
    anyhow::ensure!(
        publisher.wait_ready(Duration::from_secs(30)).await,
        "RabbitMQ is not there"
    );
    let started = Instant::now();
    for chunk in events.chunks(1000) {
        publisher.publisher().publish_all(chunk).await?;
    }
    report(&format!(
        "published {total} events (one complaint stream of {stream_len}) in {:.2} s",
        started.elapsed().as_secs_f64()
    ));

    let store = EventStore::new(&mongo.database(&config.mongo.database));
    let before = snapshot(&metrics.render());
    let app = App::build(config.clone()).await?;
    let port = app.port();
    let shutdown = CancellationToken::new();
    let started = Instant::now();
    let running = tokio::spawn(app.run(shutdown.clone()));
    let draining = Arc::new(AtomicBool::new(true));
    let statistics = std::env::var("BENCH_STATISTICS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map(|ms| {
            let pause = Duration::from_millis(ms);
            tokio::spawn(request_statistics(port, pause, draining.clone()))
        });
    while store.max_position().await? < total as i64 {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let stored_in = started.elapsed();
    draining.store(false, Ordering::Relaxed);
    if let Some(statistics) = statistics {
        let mut took = statistics.await?;
        took.sort();
        let at =
            |q: f64| took.get(((took.len() as f64 * q) as usize).min(took.len().saturating_sub(1)));
        report(&format!(
            "  /api/events/statistics requested {} times during the drain: p50 {:?}, p99 {:?}, max {:?}",
            took.len(),
            at(0.5),
            at(0.99),
            took.last()
        ));
    }
    let mut redis = redis::Client::open(config.redis.url.as_str())?
        .get_multiplexed_async_connection()
        .await?;
    let checkpoint = format!(
        "{}event-store:mirrored-position",
        config.redis.stream_prefix
    );
    loop {
        let mirrored: Option<i64> = redis::cmd("GET")
            .arg(&checkpoint)
            .query_async(&mut redis)
            .await?;
        if mirrored.unwrap_or(0) >= total as i64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mirrored_in = started.elapsed();
    let after = snapshot(&metrics.render());
    let mongo_wait = after.mongo - before.mongo;
    let redis_wait = after.redis - before.redis;
    let handler = after.handler - before.handler;
    report(&format!(
        "drain: {total} events stored in {:.2} s ({:.0} events/s), all mirrored to Redis after {:.2} s ({:.0} events/s)",
        stored_in.as_secs_f64(),
        total as f64 / stored_in.as_secs_f64(),
        mirrored_in.as_secs_f64(),
        total as f64 / mirrored_in.as_secs_f64()
    ));
    report(&format!(
        "  of which: waiting on MongoDB {mongo_wait:.2} s, waiting on Redis {redis_wait:.2} s, \
         rest of the handler (decode, documents, bookkeeping) {:.2} s, \
         outside the handler (RabbitMQ delivery, acks, batching) {:.2} s; {} batches, mean {:.0} events",
        (handler - mongo_wait - redis_wait).max(0.0),
        (mirrored_in.as_secs_f64() - handler).max(0.0),
        after.batches - before.batches,
        (after.batch_events - before.batch_events) / (after.batches - before.batches).max(1.0),
    ));

    // 3. Replays of the big stream.
    let client = shared::test_support::auth::client();
    let url = format!("http://127.0.0.1:{port}/api/events/replay/Complaint-bench-stream");
    for (target, body) in [
        ("a Redis stream", json!({ "redisStream": "bench-replay" })),
        ("the events.replay exchange", json!({ "exchange": true })),
    ] {
        let before = snapshot(&metrics.render());
        let started = Instant::now();
        let response = client.post(&url).json(&body).send().await?;
        let elapsed = started.elapsed().as_secs_f64();
        let answer: serde_json::Value = response.json().await?;
        let after = snapshot(&metrics.render());
        let writes = (after.replay - before.replay).max(0.0);
        report(&format!(
            "replay to {target}: {} events in {elapsed:.2} s ({:.0} events/s); writing to the target {writes:.2} s, \
             reading MongoDB and the rest {:.2} s",
            answer["count"],
            stream_len as f64 / elapsed,
            (elapsed - writes).max(0.0),
        ));
    }

    shutdown.cancel();
    running.await??;
    publisher.close().await;
    if std::env::var("BENCH_KEEP").is_ok_and(|v| v == "1") {
        report(&format!(
            "kept: APP_MONGO__DATABASE={} APP_REDIS__STREAM_PREFIX={} RABBITMQ_URL={}",
            config.mongo.database, config.redis.stream_prefix, vhost.amqp_url
        ));
    } else {
        mongo.database(&config.mongo.database).drop().await?;
    }
    mongo.shutdown().await;
    Ok(())
}

/// Requests the statistics, `pause` apart, while `draining`; returns how long each took.
async fn request_statistics(
    port: u16,
    pause: Duration,
    draining: Arc<AtomicBool>,
) -> Vec<Duration> {
    let client = shared::test_support::auth::client();
    let url = format!("http://127.0.0.1:{port}/api/events/statistics");
    let mut took = Vec::new();
    while draining.load(Ordering::Relaxed) {
        let started = Instant::now();
        if let Ok(response) = client.get(&url).send().await {
            let _ = response.bytes().await;
            took.push(started.elapsed());
        }
        tokio::time::sleep(pause).await;
    }
    took
}

/// `total` events, event `i` stamped `i` seconds after the first: a complaint stream of
/// `stream_len` (versions 1…), then, alternating, a complaint lifecycle decided by the shared
/// aggregate and one event of another domain's aggregate.
fn backlog(total: usize, stream_len: usize) -> Vec<Envelope> {
    let start = Utc::now() - TimeDelta::seconds(total as i64);
    let at = |i: usize| start + TimeDelta::seconds(i as i64);
    let data =
        |i: usize| json!({ "n": i, "title": "Invoice charged twice", "note": "x".repeat(200) });
    let mut events: Vec<Envelope> = (0..stream_len)
        .map(|i| {
            let metadata = Metadata::new("bench", "bench".into(), at(i)).with_version(i as i64 + 1);
            Envelope::new(
                EventType::ComplaintPriorityChanged,
                "bench-stream",
                "Complaint",
                data(i),
                metadata,
            )
        })
        .collect();
    let others = [
        (EventType::NotificationSent, "Notification"),
        (EventType::SagaStarted, "Saga"),
        (EventType::AuditCompensation, "AuditEntry"),
        (EventType::ErrorManualInterventionRequired, "Saga"),
    ];
    let mut n = 0;
    while events.len() < total {
        if n % 2 == 0 && total - events.len() >= 5 {
            let id = format!("bench-{}", uuid::Uuid::now_v7());
            events.extend(lifecycle(&id, n % 4 == 0, at(events.len())));
        } else {
            let i = events.len();
            let (event_type, aggregate_type) = others[n % others.len()];
            let metadata = Metadata::new("bench", format!("corr-{}", i % 100), at(i));
            events.push(Envelope::new(
                event_type,
                uuid::Uuid::now_v7().to_string(),
                aggregate_type,
                data(i),
                metadata,
            ));
        }
        n += 1;
    }
    events
}

/// A complaint created, assigned, processed, resolved and, if `closed`, closed: its events
/// one second apart from `start`, as complaint-service publishes them.
fn lifecycle(id: &str, closed: bool, start: DateTime<Utc>) -> Vec<Envelope> {
    let parsed = "a valid value";
    let mut commands = vec![
        Command::Create {
            title: ComplaintTitle::parse("Invoice charged twice").expect(parsed),
            description: Description::parse("May's invoice was debited twice.").expect(parsed),
            category: Category::parse("billing").expect(parsed),
            priority: Priority::Medium,
            customer: Customer {
                id: CustomerId::parse("customer-42").expect(parsed),
                name: CustomerName::parse("Ada Lovelace").expect(parsed),
                contact: Contact {
                    email: Email::parse("ada@example.com").expect(parsed),
                },
            },
        },
        Command::Assign {
            agent_id: AgentId::parse("agent-002").expect(parsed),
        },
        Command::Process,
        Command::Resolve {
            resolution: Resolution::parse("Refunded the second debit.").expect(parsed),
        },
    ];
    if closed {
        commands.push(Command::Close);
    }
    let mut state = Complaint::empty(id);
    let mut envelopes = Vec::new();
    for (n, command) in commands.into_iter().enumerate() {
        let now = start + TimeDelta::seconds(n as i64);
        let decided = decide(&state, command, &Policy::default(), now).expect("a valid command");
        for event in decided {
            state = evolve(state, &event, now);
            let metadata =
                Metadata::new("bench", format!("corr-{id}"), now).with_version(state.version);
            envelopes.push(event.to_envelope(id, metadata));
        }
    }
    envelopes
}

/// Sums of the histograms the benchmark splits time with.
#[derive(Default)]
struct Snapshot {
    mongo: f64,
    redis: f64,
    handler: f64,
    replay: f64,
    batches: f64,
    batch_events: f64,
}

fn snapshot(text: &str) -> Snapshot {
    let sum = |prefix: &str| -> f64 {
        text.lines()
            .filter(|line| line.starts_with(prefix))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    Snapshot {
        mongo: sum("event_store_mongo_write_seconds_sum"),
        redis: sum("event_store_redis_write_seconds_sum"),
        handler: sum("event_processing_duration_seconds_sum"),
        replay: sum("event_store_replay_duration_seconds_sum"),
        batches: sum("event_store_batch_size_count"),
        batch_events: sum("event_store_batch_size_sum"),
    }
}

fn report(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
}
