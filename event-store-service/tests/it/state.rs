//! Rebuilding a complaint from the log, now and in the past.

use crate::{events::full_lifecycle, harness::spawn_app};
use reqwest::StatusCode;

#[tokio::test]
async fn the_rebuilt_state_is_the_one_the_aggregate_gives_for_the_same_events() {
    let app = spawn_app().await;
    let complaint = full_lifecycle("c-state");
    app.publisher().await.publish(&complaint.envelopes).await;
    app.client.wait_for_count(8).await;

    let reply = app.client.get("/api/events/state/c-state").await;
    assert_eq!(reply.status, StatusCode::OK);
    // Field for field as the aggregate serializes, so read models can be compared directly.
    assert_eq!(
        reply.body["state"],
        serde_json::to_value(complaint.last_state()).expect("JSON")
    );
    let state = app.client.state("c-state", "").await;
    assert_eq!(state.version, 8);
    assert_eq!(state.event_count, 8);
    assert_eq!(state.aggregate_type, "Complaint");
    assert_eq!(
        state.last_event_at,
        Some(complaint.envelopes[7].metadata.timestamp)
    );
}

#[tokio::test]
async fn time_travel_gives_the_state_at_a_version_or_at_a_time() {
    let app = spawn_app().await;
    let complaint = full_lifecycle("c-travel");
    app.publisher().await.publish(&complaint.envelopes).await;
    app.client.wait_for_count(8).await;

    let at_three = app.client.state("c-travel", "atVersion=3").await;
    assert_eq!(&at_three.state, &complaint.states[2]);

    // Exactly when the fifth event was recorded (microseconds included), and just before.
    let fifth = complaint.envelopes[4].metadata.timestamp;
    let as_of =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let at_fifth = app
        .client
        .state("c-travel", &format!("asOf={}", as_of(fifth)))
        .await;
    assert_eq!(&at_fifth.state, &complaint.states[4]);
    let before_fifth = fifth - chrono::TimeDelta::microseconds(1);
    let earlier = app
        .client
        .state("c-travel", &format!("asOf={}", as_of(before_fifth)))
        .await;
    assert_eq!(&earlier.state, &complaint.states[3]);

    let both = app
        .client
        .state("c-travel", &format!("atVersion=2&asOf={}", as_of(fifth)))
        .await;
    assert_eq!(both.version, 2);
}

#[tokio::test]
async fn a_complaint_without_events_then_or_ever_is_not_found() {
    let app = spawn_app().await;
    let complaint = full_lifecycle("c-early");
    app.publisher().await.publish(&complaint.envelopes).await;
    app.client.wait_for_count(8).await;

    let never = app.client.get("/api/events/state/c-unknown").await;
    assert_eq!(never.status, StatusCode::NOT_FOUND);
    assert_eq!(never.code(), "NOT_FOUND");
    let before = app
        .client
        .get("/api/events/state/c-early?asOf=2020-01-01T00:00:00Z")
        .await;
    assert_eq!(before.status, StatusCode::NOT_FOUND);
}
