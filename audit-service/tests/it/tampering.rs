//! Changing the trail behind the service's back is detected by `GET /api/audit/verify`.

use crate::{
    events::{correlation, event},
    harness::{spawn_app, TestApp},
};
use serde_json::Value;
use shared::{
    event::EventType,
    test_support::{metrics_grown, metrics_with, Scrape},
};

/// An app with `count` entries recorded; their sequences and event ids, in chain order.
async fn app_with_entries(count: usize) -> (TestApp, Vec<(i64, String)>) {
    let app = spawn_app().await;
    let corr = correlation();
    let events: Vec<_> = (0..count)
        .map(|n| {
            event(EventType::ComplaintPriorityChanged, "c-1", &corr)
                .version(n as i64 + 2)
                .data(serde_json::json!({ "from": "LOW", "to": "HIGH", "n": n }))
                .build()
        })
        .collect();
    app.publish(&events).await;
    let mut entries: Vec<(i64, String)> = app
        .recorded(&corr, count)
        .await
        .iter()
        .map(|e| {
            (
                e["sequence"].as_i64().unwrap(),
                e["eventId"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    entries.sort();
    let verification = app.verify().await;
    assert_eq!(verification["valid"], true, "{verification}");
    (app, entries)
}

fn first_broken(verification: &Value) -> (i64, &str) {
    let broken = &verification["firstBrokenAt"];
    (
        broken["sequence"].as_i64().expect("a broken sequence"),
        broken["kind"].as_str().expect("a kind"),
    )
}

#[tokio::test]
async fn an_untouched_trail_verifies() {
    let (app, entries) = app_with_entries(8).await;
    let verification = app.verify().await;
    assert_eq!(verification["valid"], true);
    assert_eq!(verification["checked"], 8);
    assert_eq!(verification["headSequence"], entries[7].0);
    assert_eq!(verification["firstBrokenAt"], Value::Null);
    app.stop().await;
}

#[tokio::test]
async fn a_payload_updated_behind_the_services_back_is_detected_at_its_entry() {
    let (app, entries) = app_with_entries(6).await;
    let (sequence, event_id) = &entries[3];
    app.tamper(&format!(
        "UPDATE audit_entries SET payload = jsonb_set(payload, '{{to}}', '\"LOW\"') WHERE sequence = {sequence}"
    ))
    .await;

    let verification = app.verify().await;
    assert_eq!(verification["valid"], false);
    assert_eq!(first_broken(&verification), (*sequence, "CONTENT_ALTERED"));
    assert_eq!(verification["firstBrokenAt"]["eventId"], event_id.as_str());
    assert_eq!(verification["checked"], 4);
    assert!(verification["firstBrokenAt"]["reason"]
        .as_str()
        .unwrap()
        .contains("modified"));
    app.stop().await;
}

#[tokio::test]
async fn a_deleted_middle_entry_is_detected_at_the_entry_after_it() {
    let (app, entries) = app_with_entries(6).await;
    app.tamper(&format!(
        "DELETE FROM audit_entries WHERE sequence = {}",
        entries[2].0
    ))
    .await;

    let verification = app.verify().await;
    assert_eq!(verification["valid"], false);
    assert_eq!(first_broken(&verification), (entries[3].0, "LINK_BROKEN"));
    assert_eq!(
        verification["firstBrokenAt"]["eventId"],
        entries[3].1.as_str()
    );
    app.stop().await;
}

#[tokio::test]
async fn a_deleted_last_entry_is_detected_by_the_chain_head() {
    let (app, entries) = app_with_entries(5).await;
    app.tamper(&format!(
        "DELETE FROM audit_entries WHERE sequence = {}",
        entries[4].0
    ))
    .await;

    let verification = app.verify().await;
    assert_eq!(verification["valid"], false);
    assert_eq!(first_broken(&verification), (entries[4].0, "TAIL_MISSING"));
    app.stop().await;
}

#[tokio::test]
async fn plain_updates_and_deletes_are_refused_by_the_database() {
    let (app, entries) = app_with_entries(2).await;
    for sql in [
        format!(
            "UPDATE audit_entries SET actor = 'mallory' WHERE sequence = {}",
            entries[0].0
        ),
        format!(
            "DELETE FROM audit_entries WHERE sequence = {}",
            entries[1].0
        ),
    ] {
        let error = sqlx::query(&sql).execute(&app.pool).await.unwrap_err();
        assert!(error.to_string().contains("append-only"), "{error}");
    }
    assert_eq!(app.verify().await["valid"], true);
    app.stop().await;
}

#[tokio::test]
async fn verification_runs_are_counted_in_the_metrics() {
    let (app, entries) = app_with_entries(2).await;
    let before = Scrape::take(&app.address).await;
    assert_eq!(app.verify().await["valid"], true);
    app.tamper(&format!(
        "UPDATE audit_entries SET service = 'forged' WHERE sequence = {}",
        entries[0].0
    ))
    .await;
    assert_eq!(app.verify().await["valid"], false);
    metrics_grown(
        &app.address,
        &before,
        &[
            ("audit_verifications_total{outcome=\"valid\"}", 1.0),
            ("audit_verifications_total{outcome=\"broken\"}", 1.0),
        ],
    )
    .await;
    metrics_with(
        &app.address,
        &[
            "audit_verification_failures_total",
            "audit_events_recorded_total{event_type=\"COMPLAINT_PRIORITY_CHANGED\"}",
            "audit_lag_seconds",
        ],
    )
    .await;
    app.stop().await;
}
