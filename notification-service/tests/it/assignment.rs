//! The assignment saga step and its compensation.

use crate::{complaints::ComplaintScript, harness::spawn_app};
use serde_json::Value;

fn is(data: &Value, complaint: &str, step: &str, audience: &str) -> bool {
    data["complaintId"] == complaint && data["step"] == step && data["audience"] == audience
}

#[tokio::test]
async fn an_assignment_notifies_the_assignee_and_the_complainant() {
    let app = spawn_app().await;
    let (mut complaint, created) = ComplaintScript::create("Late refund", "ada@example.com");
    app.publish(&created).await;
    app.publish(&complaint.assign("agent-001")).await;

    let to_alice = app
        .smtp
        .wait_for(1, "alice.martin@support.example.com")
        .await;
    assert!(to_alice[0].subject.contains("Late refund"), "{to_alice:?}");
    let to_ada = app.smtp.wait_for(2, "ada@example.com").await;
    assert!(
        to_ada.iter().any(|m| m.raw.contains("Alice Martin")),
        "{to_ada:?}"
    );
    let id = complaint.id.clone();
    let assignee = app
        .published
        .wait_for("NOTIFICATION_SENT", |d| {
            is(d, &id, "assignment", "assignee")
        })
        .await;
    assert_eq!(
        assignee.event_data["recipient"],
        "alice.martin@support.example.com"
    );
    assert_eq!(assignee.event_data["agentId"], "agent-001");
    app.published
        .wait_for("NOTIFICATION_SENT", |d| {
            is(d, &id, "assignment", "complainant")
        })
        .await;
    app.stop().await;
}

#[tokio::test]
async fn assigning_an_unknown_agent_fails_the_assignee_notification_at_once() {
    let app = spawn_app().await;
    let (mut complaint, created) = ComplaintScript::create("Missing parts", "ada@example.com");
    app.publish(&created).await;
    let assigned = complaint.assign("ghost-agent");
    app.publish(&assigned).await;

    let id = complaint.id.clone();
    let failed = app
        .published
        .wait_for("NOTIFICATION_FAILED", |d| d["complaintId"] == id.as_str())
        .await;
    let data = &failed.event_data;
    assert_eq!(data["step"], "assignment");
    assert_eq!(data["audience"], "assignee");
    assert_eq!(data["reason"], "unknown agent");
    assert_eq!(data["attempts"], 0);
    assert_eq!(data["recipient"], "ghost-agent");
    assert_eq!(data["agentId"], "ghost-agent");
    assert_eq!(data["channel"], "email");
    assert_eq!(data["triggeringEventType"], "COMPLAINT_ASSIGNED");
    assert_eq!(data["triggeringEventId"], assigned.event_id.to_string());
    assert_eq!(
        failed.metadata.causation_id,
        Some(assigned.event_id.to_string())
    );
    assert_eq!(failed.metadata.correlation_id, complaint.correlation_id);

    let entry = app
        .wait_for_notification("the failed assignee notification", &id, |n| {
            n["audience"] == "assignee"
        })
        .await;
    assert_eq!(entry["status"], "FAILED");
    assert_eq!(entry["failureReason"], "unknown agent");
    assert_eq!(entry["attempts"], 0);
    app.stop().await;
}

#[tokio::test]
async fn a_compensation_retracts_what_the_assignment_sent_and_says_so() {
    let app = spawn_app().await;
    let (mut complaint, created) = ComplaintScript::create("Double charge", "ada@example.com");
    let id = complaint.id.clone();
    app.publish(&created).await;
    app.publish(&complaint.assign("ghost-agent")).await;
    app.published
        .wait_for("NOTIFICATION_FAILED", |d| {
            is(d, &id, "assignment", "assignee")
        })
        .await;
    let told = app
        .published
        .wait_for("NOTIFICATION_SENT", |d| {
            is(d, &id, "assignment", "complainant")
        })
        .await;
    let told_id = told.event_data["notificationId"]
        .as_str()
        .unwrap()
        .to_owned();

    let compensation_required = complaint.require_compensation("ghost-agent");
    app.publish(&compensation_required).await;

    let compensated = app
        .published
        .wait_for("NOTIFICATION_COMPENSATION", |d| {
            d["complaintId"] == id.as_str()
        })
        .await;
    let data = &compensated.event_data;
    assert_eq!(data["step"], "assignment");
    assert_eq!(data["failedStep"], "NOTIFY_ASSIGNEE");
    assert_eq!(data["agentId"], "ghost-agent");
    assert_eq!(
        data["retractedNotificationIds"],
        serde_json::json!([told_id])
    );
    assert_eq!(data["cancelledNotificationIds"], serde_json::json!([]));
    assert_eq!(
        data["retractionNotificationIds"].as_array().unwrap().len(),
        1
    );
    assert_eq!(
        compensated.metadata.causation_id,
        Some(compensation_required.event_id.to_string())
    );
    assert_eq!(
        compensated.aggregate_id,
        compensation_required.event_id.to_string()
    );

    let mails = app.smtp.wait_for(3, "ada@example.com").await;
    assert!(
        mails[2].subject.contains("Please disregard"),
        "{:?}",
        mails[2].subject
    );
    app.published
        .wait_for("NOTIFICATION_SENT", |d| {
            is(d, &id, "compensation", "complainant")
        })
        .await;
    let retracted = app
        .wait_for_notification("the retracted notice", &id, |n| n["id"] == told_id.as_str())
        .await;
    assert!(retracted["retractedAt"].is_string(), "{retracted}");

    app.publish(&complaint.revert_assignment("ghost-agent"))
        .await;
    let mails = app.smtp.wait_for(4, "ada@example.com").await;
    assert!(
        mails[3].subject.contains("waiting for a new agent"),
        "{:?}",
        mails[3].subject
    );
    app.stop().await;
}
