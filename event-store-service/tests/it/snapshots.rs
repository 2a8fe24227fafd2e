//! `/state` of long streams: a snapshot every N events, the events after it folded onto it,
//! a snapshot of another state version ignored and replaced; and events stored at schema
//! version 1 fold like version 2 ones, while the log keeps them as they were published.

use crate::{
    events::{create, decided, full_lifecycle},
    harness::{start, Servers, TestApp},
};
use chrono::{DateTime, Utc};
use mongodb::bson::{doc, Bson, Document};
use shared::complaint::{snapshot::STATE_VERSION, Command, Priority};

async fn spawn_with_snapshots_every(every: u32) -> TestApp {
    let mut servers = Servers::fresh().await;
    servers.config.limits.snapshot_every = every;
    start(servers).await
}

/// The `snapshots` collection of the app's database.
async fn snapshots(app: &TestApp) -> (mongodb::Client, mongodb::Collection<Document>) {
    let mongo = mongodb::Client::with_uri_str(&app.servers.config.mongo.url)
        .await
        .expect("MongoDB");
    let collection = mongo
        .database(&app.servers.config.mongo.database)
        .collection("snapshots");
    (mongo, collection)
}

/// An integer field, however the server typed it (Int32 or Int64).
fn int(document: &Document, field: &str) -> i64 {
    match document.get(field) {
        Some(Bson::Int32(n)) => i64::from(*n),
        Some(Bson::Int64(n)) => *n,
        other => panic!("{field}: {other:?}"),
    }
}

/// A complaint created, then its priority changed `changes` times: `changes + 1` events.
fn priority_changes(id: &str, changes: usize) -> crate::events::ComplaintStream {
    let start: DateTime<Utc> = "2024-05-03T08:00:00Z".parse().expect("a time");
    let priorities = [Priority::Low, Priority::High];
    let commands = std::iter::once(create(Priority::Medium))
        .chain((0..changes).map(|n| Command::ChangePriority {
            priority: priorities[n % 2],
            reason: None,
        }))
        .collect();
    decided(id, start, commands)
}

#[tokio::test]
async fn a_long_stream_is_folded_from_its_snapshot_and_the_events_after_it() {
    let app = spawn_with_snapshots_every(5).await;
    let complaint = priority_changes("c-long", 9);
    let publisher = app.publisher().await;
    publisher.publish(&complaint.envelopes[..7]).await;
    app.client.wait_for_count(7).await;

    let first = app.client.state("c-long", "").await;
    assert_eq!(first.snapshot_version, None, "none yet: the whole stream");
    assert_eq!(first.event_count, 7);
    assert_eq!(&first.state, &complaint.states[6]);

    publisher.publish(&complaint.envelopes[7..]).await;
    app.client.wait_for_count(10).await;
    let now = app.client.state("c-long", "").await;
    assert_eq!(now.snapshot_version, Some(7), "kept by the first read");
    assert_eq!(now.event_count, 3, "only the events after it");
    assert_eq!(&now.state, complaint.last_state());
    assert_eq!(now.version, 10);
    assert_eq!(
        now.last_event_at,
        Some(complaint.envelopes[9].metadata.timestamp)
    );

    // The past is still folded from the first event.
    let at_three = app.client.state("c-long", "atVersion=3").await;
    assert_eq!(at_three.snapshot_version, None);
    assert_eq!(&at_three.state, &complaint.states[2]);
    // Nothing after the snapshot: the answer is the snapshot itself.
    let again = app.client.state("c-long", "atVersion=7").await;
    assert_eq!(again.snapshot_version, Some(7));
    assert_eq!(&again.state, &complaint.states[6]);
}

#[tokio::test]
async fn a_snapshot_of_an_older_state_version_is_ignored_and_replaced() {
    let app = spawn_with_snapshots_every(3).await;
    let complaint = full_lifecycle("c-old-snapshot");
    app.publisher().await.publish(&complaint.envelopes).await;
    app.client.wait_for_count(8).await;
    app.client.state("c-old-snapshot", "").await;

    let (mongo, snapshots) = snapshots(&app).await;
    let id = doc! { "_id": { "$eq": "Complaint-c-old-snapshot" } };
    let kept = snapshots.find_one(id.clone()).await.unwrap().expect("kept");
    assert_eq!(int(&kept, "stateVersion"), i64::from(STATE_VERSION));
    assert_eq!(int(&kept, "version"), 8);
    // As an older build would have left it: another state version and another state.
    let mut older = kept.clone();
    older.insert("stateVersion", STATE_VERSION - 1);
    older.insert("state", r#"{"id":"c-old-snapshot","status":"OPEN"}"#);
    snapshots.replace_one(id.clone(), older).await.unwrap();

    let state = app.client.state("c-old-snapshot", "").await;
    assert_eq!(state.snapshot_version, None, "ignored");
    assert_eq!(state.event_count, 8);
    assert_eq!(&state.state, complaint.last_state());
    let replaced = snapshots.find_one(id).await.unwrap().expect("kept");
    assert_eq!(int(&replaced, "stateVersion"), i64::from(STATE_VERSION));
    assert_eq!(int(&replaced, "version"), 8);
    mongo.shutdown().await;
}

#[tokio::test]
async fn a_stream_stored_at_schema_version_1_rebuilds_like_one_at_version_2() {
    let app = spawn_with_snapshots_every(0).await;
    let now = full_lifecycle("c-v2");
    let mut then = full_lifecycle("c-v1");
    // COMPLAINT_CREATED as the code before version 2 published it.
    let created = &mut then.envelopes[0];
    let customer = created.event_data["customer"].as_object_mut().unwrap();
    let contact = customer.remove("contact").unwrap();
    customer.insert("email".into(), contact["email"].clone());
    created.metadata.schema_version = 1;
    let publisher = app.publisher().await;
    publisher.publish(&then.envelopes).await;
    publisher.publish(&now.envelopes).await;
    app.client.wait_for_count(16).await;

    let from_v1 = app.client.state("c-v1", "").await.state;
    let from_v2 = app.client.state("c-v2", "").await.state;
    assert_eq!(from_v1.customer_email, "ada@example.com");
    let same_but_id = shared::complaint::Complaint {
        id: from_v2.id.clone(),
        ..from_v1
    };
    assert_eq!(same_but_id, from_v2);
    // The log keeps the event as it was published.
    let stored = app.client.stream(&then.stream_id(), "").await;
    assert_eq!(stored.events[0].envelope, then.envelopes[0]);
    assert_eq!(stored.events[0].envelope.metadata.schema_version, 1);
}
