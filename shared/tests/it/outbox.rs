//! The outbox against real PostgreSQL and RabbitMQ: events committed with a state change are
//! published in order, once, by however many relays run; rolled-back ones never are; published
//! rows leave the outbox, unless a retention keeps them.

use chrono::Utc;
use serde_json::json;
use shared::{
    event::{exchanges, Envelope, EventType, Metadata},
    lifecycle::Background,
    messaging::{Broker, Handler, HandlerError, QueueSpec, Topology},
    outbox::{self, Relay, RelaySettings},
    test_support::{self, eventually, TestVhost},
};
use sqlx::PgPool;
use std::{
    sync::{Arc, Mutex},
    time::Duration,
};
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(20);
const QUEUE: &str = "test.outbox-events";

const OUTBOX_DDL: &str = "
CREATE TABLE outbox (
    position     BIGSERIAL PRIMARY KEY,
    event_id     UUID NOT NULL UNIQUE,
    envelope     JSONB NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at TIMESTAMPTZ
);
CREATE INDEX outbox_unpublished ON outbox (position) WHERE published_at IS NULL;";

#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<Envelope>>>);

impl Handler for Seen {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        self.0.lock().unwrap().push(event.clone());
        Ok(())
    }
}

impl Seen {
    fn ids(&self) -> Vec<Uuid> {
        self.0.lock().unwrap().iter().map(|e| e.event_id).collect()
    }
}

async fn pool() -> PgPool {
    let pool = shared::postgres::connect(&test_support::database())
        .await
        .unwrap();
    sqlx::raw_sql(OUTBOX_DDL).execute(&pool).await.unwrap();
    pool
}

fn event(aggregate: &str, version: i64) -> Envelope {
    Envelope::new(
        EventType::ComplaintPriorityChanged,
        aggregate,
        "Complaint",
        json!({ "n": version }),
        Metadata::new("test", "corr".into(), Utc::now()).with_version(version),
    )
}

/// Commits `events` in one transaction, as a command handler would.
async fn commit(pool: &PgPool, events: &[Envelope]) {
    let mut tx = pool.begin().await.unwrap();
    outbox::enqueue(&mut tx, events).await.unwrap();
    tx.commit().await.unwrap();
}

/// A fresh vhost whose `complaints.events` is consumed into `Seen`.
async fn consumed() -> (TestVhost, Broker, Background, Seen) {
    let vhost = TestVhost::create().await;
    let settings = test_support::quorum_broker(&vhost, "test-outbox");
    let topology = Topology::new(settings.retry.clone())
        .with_queue(QueueSpec::new(QUEUE).bind(exchanges::COMPLAINTS, "#"));
    let broker = Broker::start(settings, topology);
    assert!(broker.wait_ready(WAIT).await);
    let background = Background::new();
    let seen = Seen::default();
    broker.spawn_consumer(
        QUEUE,
        seen.clone(),
        &background.tracker,
        background.shutdown.clone(),
    );
    (vhost, broker, background, seen)
}

#[tokio::test]
async fn committed_events_are_published_once_in_order_even_with_two_relays() {
    let (_vhost, broker, background, seen) = consumed().await;

    let pool = pool().await;
    let relay_settings = RelaySettings {
        batch_size: 7,
        ..RelaySettings::default()
    };
    for _ in 0..2 {
        Relay::spawn(
            pool.clone(),
            broker.publisher(),
            relay_settings.clone(),
            &background,
        );
    }
    let mut expected = Vec::new();
    for version in 1..=60 {
        let e = event("c-1", version);
        expected.push(e.event_id);
        commit(&pool, &[e]).await;
    }
    // A transaction that rolls back publishes nothing.
    let mut tx = pool.begin().await.unwrap();
    outbox::enqueue(&mut tx, &[event("c-1", 999)])
        .await
        .unwrap();
    tx.rollback().await.unwrap();

    eventually("60 events", WAIT, || async {
        (seen.ids().len() >= 60).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(seen.ids(), expected, "each once, in commit order");
    let unpublished: i64 =
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(unpublished, 0);
    background.stop(&broker).await;
}

#[tokio::test]
async fn events_committed_while_the_broker_is_away_are_published_when_it_returns() {
    let (vhost, broker, background, seen) = consumed().await;
    let pool = pool().await;
    Relay::spawn(
        pool.clone(),
        broker.publisher(),
        RelaySettings::default(),
        &background,
    );

    vhost.close_connections().await;
    let events: Vec<Envelope> = (1..=5).map(|v| event("c-2", v)).collect();
    commit(&pool, &events).await;

    eventually("5 events after the reconnect", WAIT, || async {
        (seen.ids().len() >= 5).then_some(())
    })
    .await;
    let mut ids = seen.ids();
    ids.dedup();
    assert_eq!(ids, events.iter().map(|e| e.event_id).collect::<Vec<_>>());
    background.stop(&broker).await;
}

/// (rows left in the outbox, of which marked published).
async fn outbox_rows(pool: &PgPool) -> (i64, i64) {
    sqlx::query_as("SELECT count(*), count(published_at) FROM outbox")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn published_rows_are_deleted_unless_a_retention_keeps_them() {
    for retention in [Duration::ZERO, Duration::from_secs(3600)] {
        let (_vhost, broker, background, seen) = consumed().await;
        let pool = pool().await;
        let settings = RelaySettings {
            retention,
            ..RelaySettings::default()
        };
        Relay::spawn(pool.clone(), broker.publisher(), settings, &background);
        let events: Vec<Envelope> = (1..=5).map(|v| event("c-3", v)).collect();
        commit(&pool, &events).await;

        eventually("5 events published", WAIT, || async {
            (seen.ids().len() >= 5).then_some(())
        })
        .await;
        // The relay deletes or marks the rows in the transaction it publishes them from, which
        // commits just after the broker's confirms.
        let expected = if retention.is_zero() { (0, 0) } else { (5, 5) };
        eventually("the rows deleted or marked", WAIT, || async {
            (outbox_rows(&pool).await == expected).then_some(())
        })
        .await;
        background.stop(&broker).await;
    }
}
