//! Throughput of a partitioned work queue with 1 or 2 consumer instances (BENCHMARKS.md,
//! "Scale out"). Each instance handles a batch the way the services do: one PostgreSQL
//! transaction recording every event in the inbox and writing one row of effect. The
//! instances start and share the partitions first; their handlers wait at a gate while the
//! backlog is published, and the clock runs from opening the gate until every event is handled.
//!
//! `cargo run --release -p shared --example partition-bench -- <instances> <events> [partitions]`
//! (with `.run/env` loaded; a fresh vhost and schema each run, quorum queues as deployed).

use chrono::Utc;
use serde_json::json;
use shared::{
    event::{exchanges, Envelope, EventType, Metadata},
    inbox,
    lifecycle::Background,
    messaging::{
        membership::LOOK_EVERY, properties, Broker, Handler, HandlerError, Outgoing, QueueSpec,
        Topology,
    },
    test_support::{self, TestVhost},
};
use sqlx::PgPool;
use std::time::{Duration, Instant};
use tokio::sync::watch;

const QUEUE: &str = "audit-service.partition-bench";

struct Effects {
    pool: PgPool,
    gate: watch::Receiver<bool>,
}

impl Handler for Effects {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        self.handle_batch(std::slice::from_ref(event))
            .await
            .pop()
            .unwrap_or(Ok(()))
    }

    async fn handle_batch(&self, events: &[Envelope]) -> Vec<Result<(), HandlerError>> {
        let mut gate = self.gate.clone();
        let _ = gate.wait_for(|open| *open).await;
        let outcome = async {
            let mut tx = self.pool.begin().await?;
            for event in events {
                if inbox::first_time(&mut tx, "bench", event.event_id).await? {
                    sqlx::query("INSERT INTO effects (aggregate, version) VALUES ($1, $2)")
                        .bind(&event.aggregate_id)
                        .bind(event.metadata.version)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await
        }
        .await;
        let message = outcome.err().map(|e| e.to_string());
        events
            .iter()
            .map(|_| match &message {
                None => Ok(()),
                Some(m) => Err(HandlerError::Transient(anyhow::anyhow!("{m}"))),
            })
            .collect()
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let (instances, events) = (
        args.first().copied().unwrap_or(1),
        args.get(1).copied().unwrap_or(5000),
    );
    let partitions = args.get(2).copied().unwrap_or(4) as u16;

    let vhost = TestVhost::create().await;
    let pool = shared::postgres::connect(&test_support::database()).await?;
    sqlx::raw_sql(
        "CREATE TABLE processed_events (consumer TEXT, event_id UUID, PRIMARY KEY (consumer, event_id));
         CREATE TABLE effects (aggregate TEXT NOT NULL, version BIGINT NOT NULL);",
    )
    .execute(&pool)
    .await?;
    let settings = shared::messaging::BrokerSettings {
        partitions,
        ..test_support::quorum_broker(&vhost, "audit-service")
    };
    let topology = Topology::new(settings.retry.clone())
        .with_queue(QueueSpec::new(QUEUE).bind(exchanges::AUDIT, "#"));
    let (open, gate) = watch::channel(false);
    let mut running = Vec::new();
    for _ in 0..instances {
        let broker = Broker::start(settings.clone(), topology.clone());
        broker.wait_ready(Duration::from_secs(30)).await;
        let background = Background::new();
        broker.spawn_consumer(
            QUEUE,
            Effects {
                pool: pool.clone(),
                gate: gate.clone(),
            },
            &background.tracker,
            background.shutdown.clone(),
        );
        running.push((broker, background));
    }
    // Every instance has taken its share.
    tokio::time::sleep(LOOK_EVERY * 3).await;

    let publisher = running[0].0.publisher();
    let publishing = Instant::now();
    let envelopes: Vec<Envelope> = (0..events)
        .map(|i| {
            Envelope::new(
                EventType::ComplaintPriorityChanged,
                format!("complaint-{}", i % 500),
                "Complaint",
                json!({ "padding": "x".repeat(300) }),
                Metadata::new("bench", "corr".into(), Utc::now())
                    .with_version((i / 500) as i64 + 1),
            )
        })
        .collect();
    for chunk in envelopes.chunks(500) {
        let encoded: Vec<(Vec<u8>, lapin::BasicProperties)> = chunk
            .iter()
            .map(|e| {
                (
                    serde_json::to_vec(e).unwrap_or_default(),
                    properties::for_envelope(e),
                )
            })
            .collect();
        publisher
            .send(
                encoded
                    .iter()
                    .map(|(payload, props)| Outgoing {
                        exchange: exchanges::AUDIT,
                        routing_key: "audit.bench",
                        payload,
                        properties: props.clone(),
                    })
                    .collect(),
            )
            .await?;
    }
    let published = publishing.elapsed();
    let started = Instant::now();
    open.send_replace(true);
    loop {
        let done: i64 = sqlx::query_scalar("SELECT count(*) FROM effects")
            .fetch_one(&pool)
            .await?;
        if done as usize >= events {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    println!(
        "{instances} instance(s), {partitions} partitions: {events} events in {:.2} s = {:.0} events/s (published in {:.2} s)",
        elapsed.as_secs_f64(),
        events as f64 / elapsed.as_secs_f64(),
        published.as_secs_f64()
    );
    for (broker, background) in &running {
        background.stop(broker).await;
    }
    Ok(())
}
