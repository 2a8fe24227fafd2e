//! A partitioned work queue consumed by two instances of a service on one vhost and schema:
//! the work is shared, each complaint stays with one instance while both live, its events are
//! handled in order, and when one instance dies mid-flow the other takes its partitions and
//! every effect still happens exactly once.

use chrono::Utc;
use serde_json::json;
use shared::{
    event::{exchanges, Envelope, EventType, Metadata},
    inbox,
    lifecycle::Background,
    messaging::{properties, Broker, Handler, HandlerError, QueueSpec, Topology},
    test_support::{self, eventually, TestVhost},
};
use sqlx::PgPool;
use std::{collections::BTreeMap, time::Duration};

const WAIT: Duration = Duration::from_secs(60);
/// A queue audit-service owns, so the test runs under its production permissions.
const QUEUE: &str = "audit-service.partition-test";
const PARTITIONS: u16 = 4;
const COMPLAINTS: usize = 20;
const VERSIONS: i64 = 30;

const DDL: &str = "
CREATE TABLE processed_events (consumer TEXT NOT NULL, event_id UUID NOT NULL, PRIMARY KEY (consumer, event_id));
CREATE TABLE effects (
    seq       BIGSERIAL PRIMARY KEY,
    event_id  UUID NOT NULL,
    aggregate TEXT NOT NULL,
    version   BIGINT NOT NULL,
    instance  TEXT NOT NULL
);";

/// Records each event once (inbox and effect in one transaction), as the services do, with
/// the instance that handled it.
struct Recorder {
    pool: PgPool,
    instance: &'static str,
}

impl Handler for Recorder {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let transient = |e: sqlx::Error| HandlerError::Transient(e.into());
        let mut tx = self.pool.begin().await.map_err(transient)?;
        if inbox::first_time(&mut tx, "partition-test", event.event_id)
            .await
            .map_err(transient)?
        {
            sqlx::query(
                "INSERT INTO effects (event_id, aggregate, version, instance) VALUES ($1, $2, $3, $4)",
            )
            .bind(event.event_id)
            .bind(&event.aggregate_id)
            .bind(event.metadata.version)
            .bind(self.instance)
            .execute(&mut *tx)
            .await
            .map_err(transient)?;
        }
        // Some work per event, so that an instance can be stopped with work in hand.
        tokio::time::sleep(Duration::from_millis(5)).await;
        tx.commit().await.map_err(transient)
    }
}

struct Instance {
    broker: Broker,
    background: Background,
}

fn topology(vhost: &TestVhost, partitions: u16) -> (shared::messaging::BrokerSettings, Topology) {
    let settings = shared::messaging::BrokerSettings {
        partitions,
        ..test_support::broker(vhost, "audit-service")
    };
    let topology = Topology::new(settings.retry.clone())
        .with_queue(QueueSpec::new(QUEUE).bind(exchanges::AUDIT, "#"));
    (settings, topology)
}

async fn start(vhost: &TestVhost, pool: &PgPool, instance: &'static str) -> Instance {
    let (settings, topology) = topology(vhost, PARTITIONS);
    let broker = Broker::start(settings, topology);
    assert!(broker.wait_ready(WAIT).await);
    let background = Background::new();
    broker.spawn_consumer(
        QUEUE,
        Recorder {
            pool: pool.clone(),
            instance,
        },
        &background.tracker,
        background.shutdown.clone(),
    );
    Instance { broker, background }
}

async fn pool() -> PgPool {
    let pool = shared::postgres::connect(&test_support::database())
        .await
        .unwrap();
    sqlx::raw_sql(DDL).execute(&pool).await.unwrap();
    pool
}

fn complaint(n: usize) -> String {
    format!("complaint-{n}")
}

/// Publishes every complaint's events, version after version, as relays would.
async fn publish_all(publisher: shared::messaging::Publisher) {
    publish_versions(&publisher, 1..=VERSIONS).await;
}

async fn publish_versions(
    publisher: &shared::messaging::Publisher,
    versions: std::ops::RangeInclusive<i64>,
) {
    for version in versions {
        for n in 0..COMPLAINTS {
            let event = Envelope::new(
                EventType::ComplaintPriorityChanged,
                complaint(n),
                "Complaint",
                json!({ "n": version }),
                Metadata::new("test", "corr".into(), Utc::now()).with_version(version),
            );
            publisher
                .publish_to(
                    exchanges::AUDIT,
                    "audit.test",
                    &event,
                    properties::for_envelope(&event),
                )
                .await
                .expect("published");
        }
    }
}

struct Effect {
    aggregate: String,
    version: i64,
    instance: String,
}

async fn effects(pool: &PgPool) -> Vec<Effect> {
    let rows: Vec<(String, i64, String)> =
        sqlx::query_as("SELECT aggregate, version, instance FROM effects ORDER BY seq")
            .fetch_all(pool)
            .await
            .unwrap();
    rows.into_iter()
        .map(|(aggregate, version, instance)| Effect {
            aggregate,
            version,
            instance,
        })
        .collect()
}

async fn all_handled(pool: &PgPool) -> Vec<Effect> {
    let total = COMPLAINTS * VERSIONS as usize;
    eventually("every event handled", WAIT, || async {
        let effects = effects(pool).await;
        (effects.len() >= total).then_some(())
    })
    .await;
    // Anything handled twice would show up now.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let effects = effects(pool).await;
    assert_eq!(effects.len(), total, "each event's effect exactly once");
    effects
}

/// Per complaint, the instances that handled its events, in the order its effects were made.
fn by_complaint(effects: &[Effect]) -> BTreeMap<&str, Vec<(i64, &str)>> {
    let mut map: BTreeMap<&str, Vec<(i64, &str)>> = BTreeMap::new();
    for effect in effects {
        map.entry(effect.aggregate.as_str())
            .or_default()
            .push((effect.version, effect.instance.as_str()));
    }
    map
}

fn assert_in_order(effects: &[Effect]) {
    for (complaint, handled) in by_complaint(effects) {
        let versions: Vec<i64> = handled.iter().map(|(v, _)| *v).collect();
        assert_eq!(
            versions,
            (1..=VERSIONS).collect::<Vec<_>>(),
            "{complaint}: effects out of order"
        );
    }
}

/// Both instances have looked at the membership and let go of what is not theirs.
async fn settle() {
    tokio::time::sleep(shared::messaging::membership::LOOK_EVERY * 3).await;
}

#[tokio::test]
async fn two_instances_share_the_partitions_and_keep_each_complaint_with_one_in_order() {
    let vhost = TestVhost::create().await;
    let pool = pool().await;
    let first = start(&vhost, &pool, "first").await;
    let second = start(&vhost, &pool, "second").await;
    settle().await;

    publish_all(first.broker.publisher()).await;
    let effects = all_handled(&pool).await;

    assert_in_order(&effects);
    let mut share: BTreeMap<&str, usize> = BTreeMap::new();
    for (complaint, handled) in by_complaint(&effects) {
        let instance = handled[0].1;
        assert!(
            handled.iter().all(|(_, i)| *i == instance),
            "{complaint} was handled by both instances while both were alive"
        );
        *share.entry(instance).or_default() += 1;
    }
    assert_eq!(
        share.len(),
        2,
        "both instances consume a share of the complaints: {share:?}"
    );

    second.background.stop(&second.broker).await;
    first.background.stop(&first.broker).await;
}

#[tokio::test]
async fn an_instance_killed_mid_flow_hands_its_partitions_over_and_every_effect_happens_once() {
    let vhost = TestVhost::create().await;
    let pool = pool().await;
    let doomed = start(&vhost, &pool, "doomed").await;
    let survivor = start(&vhost, &pool, "survivor").await;
    settle().await;

    let publishing = tokio::spawn(publish_all(survivor.broker.publisher()));
    eventually("the doomed instance at work", WAIT, || async {
        let handled = effects(&pool).await;
        (handled.iter().filter(|e| e.instance == "doomed").count() >= 50).then_some(())
    })
    .await;
    // Killed, not stopped: the connection goes while a batch is in hand, whose acks are lost.
    doomed.background.shutdown.cancel();
    doomed.broker.close().await;
    publishing.await.unwrap();

    let effects = all_handled(&pool).await;
    assert_in_order(&effects);
    let handed_over = by_complaint(&effects)
        .into_values()
        .filter(|handled| handled[0].1 == "doomed")
        .collect::<Vec<_>>();
    assert!(
        !handed_over.is_empty(),
        "the doomed instance had complaints"
    );
    for handled in handed_over {
        assert_eq!(
            handled.last().map(|(_, i)| *i),
            Some("survivor"),
            "the survivor finishes the complaints of the dead instance"
        );
    }

    survivor.background.stop(&survivor.broker).await;
}

#[tokio::test]
async fn going_from_one_queue_to_partitions_drains_the_old_queue_and_stops_filling_it() {
    let vhost = TestVhost::create().await;
    let pool = pool().await;
    // Before: one queue, nobody consuming it; half the history waits there.
    let (settings, topology) = topology(&vhost, 1);
    let before = Broker::start(settings, topology);
    assert!(before.wait_ready(WAIT).await);
    publish_versions(&before.publisher(), 1..=VERSIONS / 2).await;
    before.close().await;

    let after = start(&vhost, &pool, "partitioned").await;
    settle().await;
    publish_versions(&after.broker.publisher(), VERSIONS / 2 + 1..=VERSIONS).await;
    let effects = all_handled(&pool).await;
    assert_eq!(effects.len(), COMPLAINTS * VERSIONS as usize);
    let old = vhost
        .management_get(&format!("api/queues/{}/{QUEUE}", vhost.name))
        .await;
    assert_eq!(old["messages"], 0, "the old queue is drained: {old}");
    let bindings = vhost
        .management_get(&format!("api/queues/{}/{QUEUE}/bindings", vhost.name))
        .await;
    let from_audit = bindings
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["source"] == exchanges::AUDIT)
        .count();
    assert_eq!(from_audit, 0, "the old queue no longer fills: {bindings}");

    after.background.stop(&after.broker).await;
}
