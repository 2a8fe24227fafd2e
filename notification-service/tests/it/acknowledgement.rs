//! The acknowledgement saga step: a new complaint is acknowledged to its complainant.

use crate::{complaints::ComplaintScript, harness::spawn_app};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_new_complaint_is_acknowledged_by_mail_and_recorded_as_sent() {
    let app = spawn_app().await;
    let (complaint, created) = ComplaintScript::create("Broken invoice", "ada@example.com");

    app.publish(&created).await;

    let mails = app.smtp.wait_for(1, "ada@example.com").await;
    assert!(
        mails[0].subject.contains("Broken invoice"),
        "{}",
        mails[0].subject
    );
    let sent = app
        .published
        .wait_for("NOTIFICATION_SENT", |d| {
            d["complaintId"] == complaint.id.as_str()
        })
        .await;
    let notification_id = sent.event_data["notificationId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        sent.event_data,
        json!({
            "notificationId": notification_id,
            "complaintId": complaint.id,
            "step": "acknowledgement",
            "audience": "complainant",
            "recipient": "ada@example.com",
            "channel": "email",
            "triggeringEventId": created.event_id,
            "triggeringEventType": "COMPLAINT_CREATED",
            "attempts": 1,
        })
    );
    assert_eq!(sent.aggregate_type, "Notification");
    assert_eq!(sent.aggregate_id, notification_id);
    assert_eq!(sent.metadata.source, "notification-service");
    assert_eq!(sent.metadata.correlation_id, complaint.correlation_id);
    assert_eq!(
        sent.metadata.causation_id,
        Some(created.event_id.to_string())
    );
    assert!(mails[0].is_for(&notification_id), "{}", mails[0].message_id);

    let history = app.history(&complaint.id).await;
    assert_eq!(history.len(), 1, "{history:?}");
    let entry = &history[0];
    assert_eq!(entry["id"], notification_id.as_str());
    assert_eq!(entry["status"], "SENT");
    assert_eq!(entry["step"], "acknowledgement");
    assert_eq!(entry["recipient"], "ada@example.com");
    assert_eq!(entry["attempts"], 1);
    assert!(entry["sentAt"].is_string(), "{entry}");
    assert!(entry["failureReason"].is_null());

    let (status, detail) = app
        .get(&format!("/api/notifications/{notification_id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        detail["body"].as_str().unwrap().contains(&complaint.id),
        "{detail}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_same_event_delivered_twice_sends_one_mail() {
    let app = spawn_app().await;
    let (complaint, created) = ComplaintScript::create("Parcel never came", "grace@example.com");
    let (marker, marker_created) = ComplaintScript::create("Wrong size", "alan@example.com");

    app.publish(&created).await;
    app.publish(&created).await;
    // Events are consumed in order: once the next one is through, the duplicate was handled.
    app.publish(&marker_created).await;
    app.published
        .wait_for("NOTIFICATION_SENT", |d| {
            d["complaintId"] == marker.id.as_str()
        })
        .await;

    assert_eq!(app.smtp.received_by("grace@example.com").len(), 1);
    assert_eq!(app.history(&complaint.id).await.len(), 1);
    let sent = app.published.matching("NOTIFICATION_SENT", |d| {
        d["complaintId"] == complaint.id.as_str()
    });
    assert_eq!(sent.len(), 1);
    app.stop().await;
}
