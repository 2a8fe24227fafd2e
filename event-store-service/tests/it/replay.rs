//! Replaying a stream to a Redis consumer group and to the `events.replay` exchange.

use crate::{
    events::{full_lifecycle, mixed},
    harness::{spawn_app, Servers, WAIT},
};
use futures_util::StreamExt;
use lapin::{options::BasicAckOptions, types::AMQPValue, Connection, Consumer};
use reqwest::StatusCode;
use serde_json::json;
use shared::{
    event::{exchanges, Envelope},
    messaging::properties,
};

#[tokio::test]
async fn a_replay_delivers_the_stream_in_order_to_a_redis_consumer_group() {
    let app = spawn_app().await;
    let complaint = full_lifecycle("c-replay-redis");
    let mut published = mixed(5);
    published.extend(complaint.envelopes.clone());
    app.publisher().await.publish(&published).await;
    app.client.wait_for_count(13).await;

    let result = app
        .client
        .replay(
            &complaint.stream_id(),
            json!({ "redisStream": "replay-c1" }),
        )
        .await;
    assert_eq!(result.count, 8);

    let read = app
        .client
        .read_group("replay-c1", "auditors", "reader-1", 100)
        .await;
    let replayed: Vec<Envelope> = read
        .entries
        .iter()
        .map(|e| e.envelope.clone().expect("an envelope"))
        .collect();
    assert_eq!(
        replayed, complaint.envelopes,
        "the same events, in version order"
    );
    assert!(read.entries.iter().all(|e| e.replay));

    let ids: Vec<String> = read.entries.iter().map(|e| e.id.clone()).collect();
    assert_eq!(app.client.ack("replay-c1", "auditors", &ids).await.acked, 8);
    assert_eq!(app.client.pending("replay-c1", "auditors").await.count, 0);
}

#[tokio::test]
async fn a_replay_from_a_version_delivers_the_rest_in_order_to_the_replay_exchange() {
    let app = spawn_app().await;
    let complaint = full_lifecycle("c-replay-amqp");
    app.publisher().await.publish(&complaint.envelopes).await;
    app.client.wait_for_count(8).await;
    let (_connection, mut tap) = replay_tap(&app.servers).await;

    let result = app
        .client
        .replay(
            &complaint.stream_id(),
            json!({ "exchange": true, "fromVersion": 3 }),
        )
        .await;
    assert_eq!(result.count, 6);

    for expected in &complaint.envelopes[2..] {
        let delivery = tokio::time::timeout(WAIT, tap.next())
            .await
            .expect("a replayed message in time")
            .expect("the tap is open")
            .expect("a delivery");
        let envelope: Envelope = serde_json::from_slice(&delivery.data).expect("an envelope");
        assert_eq!(&envelope, expected);
        assert_eq!(delivery.routing_key.as_str(), expected.routing_key());
        let header = properties::headers(&delivery.properties)
            .inner()
            .get(properties::REPLAY)
            .cloned();
        assert_eq!(header, Some(AMQPValue::Boolean(true)));
        delivery
            .acker
            .ack(BasicAckOptions::default())
            .await
            .expect("ack");
    }
    // Nothing went to the live exchanges: the log still holds each event once.
    assert_eq!(app.client.statistics().await.total_events, 8);
}

#[tokio::test]
async fn a_replay_needs_a_target_and_a_stream_with_events() {
    let app = spawn_app().await;
    let no_target = app
        .client
        .post(
            "/api/events/replay/Complaint-x",
            json!({ "exchange": false }),
        )
        .await;
    assert_eq!(no_target.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_target.code(), "VALIDATION_FAILED");

    let nothing = app
        .client
        .post(
            "/api/events/replay/Complaint-nobody",
            json!({ "exchange": true }),
        )
        .await;
    assert_eq!(nothing.status, StatusCode::NOT_FOUND);

    let bad_name = app
        .client
        .post(
            "/api/events/replay/Complaint-x",
            json!({ "redisStream": "no spaces" }),
        )
        .await;
    assert_eq!(bad_name.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_name.code(), "INVALID_QUERY");
}

/// A queue of the test's own bound to `events.replay` with `#`.
async fn replay_tap(servers: &Servers) -> (Connection, Consumer) {
    servers.vhost.tap(exchanges::REPLAY, "#", false).await
}

#[tokio::test]
async fn a_replay_pages_through_a_long_stream_whose_versions_repeat() {
    let app = spawn_app().await;
    // 2,400 alarms of one queue, all "version 1", then three of version 2: pages of the
    // replay (2,000 events) end inside a run of equal versions.
    let alarm = |n: usize, version: i64| {
        Envelope::new(
            shared::event::EventType::ErrorDeadLetterQueued,
            "some-service.work.dlq",
            "DeadLetterQueue",
            json!({ "n": n }),
            shared::event::Metadata::new("some-service", "c".into(), chrono::Utc::now())
                .with_version(version),
        )
    };
    let mut alarms: Vec<Envelope> = (0..2400).map(|n| alarm(n, 1)).collect();
    alarms.extend((2400..2403).map(|n| alarm(n, 2)));
    app.publisher().await.publish(&alarms).await;
    app.client.wait_for_count(2403).await;

    let result = app
        .client
        .replay(
            "DeadLetterQueue-some-service.work.dlq",
            json!({ "redisStream": "replay-alarms" }),
        )
        .await;
    assert_eq!(result.count, 2403);
    let mut read = Vec::new();
    loop {
        let entries = app
            .client
            .read_group("replay-alarms", "g", "r", 1000)
            .await
            .entries;
        if entries.is_empty() {
            break;
        }
        read.extend(
            entries
                .into_iter()
                .map(|e| e.envelope.expect("an envelope").event_id),
        );
    }
    let published: Vec<_> = alarms.iter().map(|e| e.event_id).collect();
    assert_eq!(
        read, published,
        "every alarm once, in version then storage order"
    );
}
