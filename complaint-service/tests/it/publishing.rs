//! Events reach `complaints.events` through the outbox: each once, in version order, with
//! the catalogue's routing key — also when a relay stops between commit and confirm.

use crate::harness::{self, spawn_app, spawn_app_with, WAIT};
use serde_json::{json, Value};
use shared::{
    auth::{mint::TokenSpec, Role},
    event::Envelope,
    messaging::{Broker, Topology},
    test_support::{self, auth, eventually, EventTap},
};
use std::{collections::HashMap, time::Duration};
use uuid::Uuid;

const LIFECYCLE: [(&str, &str); 5] = [
    ("", "complaint.created"),
    ("assign", "complaint.assigned"),
    ("process", "complaint.processed"),
    ("resolve", "complaint.resolved"),
    ("close", "complaint.closed"),
];

fn body_of(action: &str) -> Value {
    match action {
        "assign" => json!({ "agentId": "agent-1" }),
        "resolve" => json!({ "resolution": "Refunded" }),
        _ => Value::Null,
    }
}

/// The deliveries of each complaint, in arrival order.
fn by_complaint(envelopes: &[Envelope]) -> HashMap<String, Vec<&Envelope>> {
    let mut map: HashMap<String, Vec<&Envelope>> = HashMap::new();
    for envelope in envelopes {
        map.entry(envelope.aggregate_id.clone())
            .or_default()
            .push(envelope);
    }
    map
}

#[tokio::test]
async fn every_event_is_published_once_in_version_order_with_its_routing_key() {
    let app = spawn_app().await;
    let tap = EventTap::bind_to(&app.vhost, shared::event::exchanges::COMPLAINTS).await;
    let agent = auth::bearer(&auth::token(&TokenSpec::new("agent-7", &Role::ALL)));
    let headers = [("x-correlation-id", "corr-42"), ("authorization", &agent)];

    let mut command_ids: HashMap<(String, i64), String> = HashMap::new();
    for n in 0..3 {
        let created = app.create_with(harness::new_complaint(n), &headers).await;
        let id = created.id();
        command_ids.insert(
            (id.clone(), 1),
            created.body["commandId"].as_str().unwrap().into(),
        );
        for (action, _) in &LIFECYCLE[1..] {
            let reply = app
                .command_with(&id, action, body_of(action), &headers)
                .await;
            assert_eq!(reply.status, 200, "{:?}", reply.body);
            command_ids.insert(
                (id.clone(), reply.version()),
                reply.body["commandId"].as_str().unwrap().into(),
            );
        }
    }

    let expected = 3 * LIFECYCLE.len();
    eventually("every event on complaints.events", WAIT, || async {
        (tap.seen().len() >= expected).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await; // would a duplicate follow?
    let seen = tap.seen();
    assert_eq!(seen.len(), expected, "each event exactly once");

    let envelopes: Vec<Envelope> = seen.iter().map(|d| d.envelope.clone()).collect();
    for (id, events) in by_complaint(&envelopes) {
        let versions: Vec<i64> = events.iter().map(|e| e.metadata.version).collect();
        assert_eq!(versions, [1, 2, 3, 4, 5], "version order for {id}");
        for event in events {
            let version = event.metadata.version;
            let delivered = seen
                .iter()
                .find(|d| d.envelope.event_id == event.event_id)
                .unwrap();
            assert_eq!(delivered.routing_key, LIFECYCLE[version as usize - 1].1);
            assert_eq!(event.aggregate_type, "Complaint");
            assert_eq!(event.metadata.correlation_id, "corr-42");
            assert_eq!(event.metadata.user_id.as_deref(), Some("agent-7"));
            assert_eq!(event.metadata.source, "complaint-service");
            assert_eq!(
                event.metadata.causation_id.as_ref(),
                command_ids.get(&(id.clone(), version)),
                "caused by the command"
            );
        }
    }

    let pool = app.pool().await;
    let stored: Vec<Uuid> =
        sqlx::query_scalar("SELECT event_id FROM complaint_events ORDER BY position")
            .fetch_all(&pool)
            .await
            .unwrap();
    let mut published: Vec<Uuid> = envelopes.iter().map(|e| e.event_id).collect();
    let mut stored_sorted = stored.clone();
    published.sort();
    stored_sorted.sort();
    assert_eq!(
        published, stored_sorted,
        "what was published is what was stored"
    );
    app.stop().await;
}

#[tokio::test]
async fn events_a_stopped_relay_left_behind_are_published_once_by_the_next_instance() {
    let first = spawn_app_with(|config| config.relay.enabled = false).await;
    let tap = EventTap::bind_to(&first.vhost, shared::event::exchanges::COMPLAINTS).await;
    for n in 0..2 {
        let id = first.created(n).await;
        first.ok(&id, "assign", body_of("assign")).await;
        first.ok(&id, "process", Value::Null).await;
    }
    let pool = first.pool().await;
    let pending: Vec<sqlx::types::Json<Envelope>> = sqlx::query_scalar(
        "SELECT envelope FROM outbox WHERE published_at IS NULL ORDER BY position",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let pending: Vec<Envelope> = pending.into_iter().map(|e| e.0).collect();
    assert_eq!(pending.len(), 6, "committed, not published");

    // A relay that died after the broker confirmed its first two messages but before it
    // marked their rows: they are out, and their rows still say unpublished.
    let crashed = Broker::start(
        test_support::broker(&first.vhost, "crashed-relay"),
        Topology::new(Default::default()),
    );
    assert!(crashed.wait_ready(WAIT).await);
    crashed
        .publisher()
        .publish_all(&pending[..2])
        .await
        .unwrap();
    crashed.close().await;
    eventually("the crashed relay's two messages", WAIT, || async {
        (tap.seen().len() >= 2).then_some(())
    })
    .await;
    let (config, vhost) = (first.config.clone(), first.vhost.clone());
    first.stop().await;
    assert_eq!(
        tap.seen().len(),
        2,
        "nothing else went out while the relay was off"
    );

    let mut config = config;
    config.relay.enabled = true;
    let second = harness::start(config, vhost).await;
    eventually("the outbox to be relayed", WAIT, || async {
        (tap.seen().len() >= 8).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen: Vec<Envelope> = tap.seen().into_iter().map(|d| d.envelope).collect();
    assert_eq!(seen.len(), 8, "six events, two of them again");

    let mut counts: HashMap<Uuid, usize> = HashMap::new();
    for envelope in &seen {
        *counts.entry(envelope.event_id).or_default() += 1;
    }
    for (n, event) in pending.iter().enumerate() {
        let expected = if n < 2 { 2 } else { 1 };
        assert_eq!(counts[&event.event_id], expected, "event {n}");
    }
    assert_eq!(&seen[..2], &pending[..2]);
    assert_eq!(
        &seen[2..4],
        &pending[..2],
        "a duplicate is the same event, same eventId"
    );
    let relayed = &seen[2..];
    for (id, events) in by_complaint(relayed) {
        let versions: Vec<i64> = events.iter().map(|e| e.metadata.version).collect();
        assert_eq!(versions, [1, 2, 3], "version order for {id}");
    }
    eventually("every outbox row marked published", WAIT, || async {
        let left: i64 =
            sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                .fetch_one(&pool)
                .await
                .unwrap();
        (left == 0).then_some(())
    })
    .await;
    second.stop().await;
}
