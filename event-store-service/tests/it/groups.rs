//! Consumer groups on the domain streams: read, ack, and claim what a dead consumer left.

use crate::{
    events::{full_lifecycle, mixed},
    harness::{spawn_app, WAIT},
};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn every_stored_event_is_in_its_domain_stream_under_its_position() {
    let app = spawn_app().await;
    let complaint = full_lifecycle("c-mirror");
    let mut published = complaint.envelopes.clone();
    published.extend(mixed(10));
    app.publisher().await.publish(&published).await;
    app.client.wait_for_count(18).await;
    app.wait_for_mirror(18).await;

    let entries = app
        .client
        .read_group("complaints-stream", "all", "c", 100)
        .await
        .entries;
    assert_eq!(entries.len(), 8);
    let log = app.client.all("aggregateType=Complaint").await;
    for (entry, stored) in entries.iter().zip(&log.events) {
        assert_eq!(entry.id, format!("{}-0", stored.position));
        assert_eq!(entry.position, Some(stored.position));
        assert_eq!(entry.envelope.as_ref(), Some(&stored.envelope));
        assert!(!entry.replay);
    }
    let sagas = app.client.read_group("saga-stream", "all", "c", 100).await;
    assert_eq!(
        sagas.entries.len(),
        4,
        "two SAGA_STARTED and two SAGA_STEP_COMPLETED among the ten"
    );
}

#[tokio::test]
async fn a_dead_consumers_pending_entries_are_claimed_by_another() {
    let app = spawn_app().await;
    let complaint = full_lifecycle("c-claim");
    app.publisher().await.publish(&complaint.envelopes).await;
    app.client.wait_for_count(8).await;
    app.wait_for_mirror(8).await;

    // reader-1 takes three entries and dies before acknowledging them.
    let taken = app
        .client
        .read_group("complaints-stream", "workers", "reader-1", 3)
        .await;
    assert_eq!(taken.entries.len(), 3);
    let pending = app.client.pending("complaints-stream", "workers").await;
    assert_eq!(pending.count, 3);
    assert_eq!(pending.consumers[0].name, "reader-1");

    // reader-2 claims them, handles them and acknowledges.
    let claimed = app
        .client
        .claim("complaints-stream", "workers", "reader-2", 0)
        .await;
    let claimed_ids: Vec<String> = claimed.entries.iter().map(|e| e.id.clone()).collect();
    let taken_ids: Vec<String> = taken.entries.iter().map(|e| e.id.clone()).collect();
    assert_eq!(claimed_ids, taken_ids);
    assert_eq!(
        app.client
            .ack("complaints-stream", "workers", &claimed_ids)
            .await
            .acked,
        3
    );
    assert_eq!(
        app.client
            .pending("complaints-stream", "workers")
            .await
            .count,
        0
    );

    // Then it reads on where reader-1 stopped.
    let rest = app
        .client
        .read_group("complaints-stream", "workers", "reader-2", 100)
        .await;
    assert_eq!(rest.entries.len(), 5);
    assert_eq!(
        rest.entries[0]
            .envelope
            .as_ref()
            .map(|e| e.metadata.version),
        Some(4)
    );
}

#[tokio::test]
async fn a_claim_only_takes_entries_idle_long_enough() {
    let app = spawn_app().await;
    app.publisher()
        .await
        .publish(&full_lifecycle("c-idle").envelopes)
        .await;
    app.client.wait_for_count(8).await;
    app.wait_for_mirror(8).await;
    let read = app
        .client
        .read_group("complaints-stream", "w", "reader-1", 2)
        .await;
    assert_eq!(read.entries.len(), 2);
    let claimed = app
        .client
        .claim("complaints-stream", "w", "reader-2", 60_000)
        .await;
    assert!(
        claimed.entries.is_empty(),
        "reader-1 is not presumed dead after a minute yet"
    );
}

#[tokio::test]
async fn a_blocking_read_waits_for_the_next_event() {
    let app = spawn_app().await;
    let create = app
        .client
        .request(
            reqwest::Method::PUT,
            "/api/events/redis-streams/notifications-stream/groups/late?startId=$",
            None,
        )
        .await;
    assert_eq!(create.status, StatusCode::CREATED);

    let client = app.client.clone();
    let reader = tokio::spawn(async move {
        client
            .get("/api/events/redis-streams/notifications-stream/groups/late/read?consumer=r&blockMs=10000")
            .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let notification: Vec<_> = mixed(2).into_iter().skip(1).collect();
    app.publisher().await.publish(&notification).await;

    let reply = tokio::time::timeout(WAIT, reader)
        .await
        .expect("the blocked read returns")
        .expect("the reader task");
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body["entries"][0]["envelope"]["eventId"],
        notification[0].event_id.to_string()
    );
}

#[tokio::test]
async fn group_operations_on_a_missing_group_are_not_found() {
    let app = spawn_app().await;
    let ack = app
        .client
        .post(
            "/api/events/redis-streams/complaints-stream/groups/nobody/ack",
            serde_json::json!({ "ids": ["1-0"] }),
        )
        .await;
    assert_eq!(ack.status, StatusCode::NOT_FOUND);
    let pending = app
        .client
        .get("/api/events/redis-streams/complaints-stream/groups/nobody/pending")
        .await;
    assert_eq!(pending.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn group_operations_on_a_stream_that_is_not_ours_are_not_found_and_create_no_key() {
    let app = spawn_app().await;
    let group = "/api/events/redis-streams/zzprobe-stream/groups/g";
    let replies = [
        app.client.request(Method::PUT, group, None).await,
        app.client.get(&format!("{group}/read?consumer=c")).await,
        app.client.get(&format!("{group}/pending")).await,
        app.client
            .post(&format!("{group}/ack"), json!({ "ids": ["1-0"] }))
            .await,
        app.client
            .post(
                &format!("{group}/claim"),
                json!({ "consumer": "c", "minIdleMs": 0 }),
            )
            .await,
    ];
    for reply in replies {
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
        assert_eq!(reply.code(), "NOT_FOUND");
    }
    let mut redis = app.servers.redis().await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}*", app.servers.config.redis.stream_prefix))
        .query_async(&mut redis)
        .await
        .expect("Redis answers");
    assert!(
        !keys.iter().any(|k| k.contains("zzprobe")),
        "no key was created: {keys:?}"
    );
}
