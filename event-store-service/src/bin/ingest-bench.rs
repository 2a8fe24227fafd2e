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

use event_store_service::{
    app::App,
    config::{Config, SERVICE},
    consumer,
    store::{EventDocument, EventStore},
};
use serde_json::json;
use shared::{
    event::{Envelope, EventType, Metadata},
    messaging::Broker,
    test_support::{self, TestVhost},
};
use std::{
    io::Write,
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
    let mut config = Config::default();
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
    let baseline_db = mongo.database(&test_support::unique("bench_baseline_"));
    let baseline = EventStore::new(&baseline_db);
    baseline.create_indexes().await?;
    let count = total.min(BASELINE_MAX);
    let now = chrono::Utc::now();
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

    // 2. A backlog while the service is down.
    let events = backlog(total, stream_len);
    let publisher = Broker::start(
        test_support::broker(&vhost, "bench-publisher"),
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
    while store.max_position().await? < total as i64 {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let stored_in = started.elapsed();
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
    let client = reqwest::Client::new();
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
    mongo.database(&config.mongo.database).drop().await?;
    mongo.shutdown().await;
    Ok(())
}

/// `total` events: a complaint stream of `stream_len` (versions 1…), the rest one event each
/// of many aggregates across the domains.
fn backlog(total: usize, stream_len: usize) -> Vec<Envelope> {
    let now = chrono::Utc::now();
    let types = [
        (EventType::ComplaintCreated, "Complaint"),
        (EventType::NotificationSent, "Notification"),
        (EventType::SagaStarted, "Saga"),
        (EventType::AuditCompensation, "AuditEntry"),
        (EventType::ErrorManualInterventionRequired, "Saga"),
    ];
    (0..total)
        .map(|i| {
            let data = json!({ "n": i, "title": "Invoice charged twice", "note": "x".repeat(200) });
            if i < stream_len {
                let metadata =
                    Metadata::new("bench", "bench".into(), now).with_version(i as i64 + 1);
                Envelope::new(
                    EventType::ComplaintPriorityChanged,
                    "bench-stream",
                    "Complaint",
                    data,
                    metadata,
                )
            } else {
                let (event_type, aggregate_type) = types[i % types.len()];
                let metadata = Metadata::new("bench", format!("corr-{}", i % 100), now);
                Envelope::new(
                    event_type,
                    uuid::Uuid::now_v7().to_string(),
                    aggregate_type,
                    data,
                    metadata,
                )
            }
        })
        .collect()
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
