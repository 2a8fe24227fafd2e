//! Delivery over SMTP: retries with backoff for transient refusals, immediate failure for
//! permanent ones, several recipients for an escalation.

use crate::{
    complaints::ComplaintScript,
    harness::{spawn_app, spawn_app_with, Options},
};
use notification_service::delivery::BreakerSettings;
use shared::test_support::metrics_with;

#[tokio::test]
async fn a_flaky_recipient_is_retried_until_the_mail_goes_through() {
    let app = spawn_app_with(Options {
        flaky_failures: 2,
        ..Options::default()
    })
    .await;
    let (complaint, created) =
        ComplaintScript::create("Noisy fridge", "flaky.customer@example.com");
    app.publish(&created).await;

    let id = complaint.id.clone();
    let sent = app
        .published
        .wait_for("NOTIFICATION_SENT", |d| d["complaintId"] == id.as_str())
        .await;
    assert_eq!(sent.event_data["attempts"], 3);
    assert_eq!(app.smtp.received_by("flaky.customer@example.com").len(), 1);
    let history = app.history(&id).await;
    assert_eq!(history[0]["status"], "SENT");
    assert_eq!(history[0]["attempts"], 3);
    assert!(app
        .published
        .matching("NOTIFICATION_FAILED", |d| d["complaintId"] == id.as_str())
        .is_empty());

    metrics_with(
        &app.address,
        &[
            "notifications_sent_total",
            "notifications_retried_total",
            "notification_delivery_duration_seconds",
            "notifications_pending",
        ],
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_rejected_recipient_fails_at_once() {
    let app = spawn_app().await;
    let (complaint, created) =
        ComplaintScript::create("Lost luggage", "unknown.person@example.com");
    app.publish(&created).await;

    let id = complaint.id.clone();
    let failed = app
        .published
        .wait_for("NOTIFICATION_FAILED", |d| d["complaintId"] == id.as_str())
        .await;
    let data = &failed.event_data;
    assert_eq!(data["attempts"], 1);
    assert_eq!(data["step"], "acknowledgement");
    assert_eq!(data["audience"], "complainant");
    assert!(
        data["reason"].as_str().unwrap().contains("550"),
        "{}",
        data["reason"]
    );
    assert!(app
        .smtp
        .received_by("unknown.person@example.com")
        .is_empty());
    let history = app.history(&id).await;
    assert_eq!(history[0]["status"], "FAILED");
    assert!(history[0]["failureReason"]
        .as_str()
        .unwrap()
        .contains("550"));
    app.stop().await;
}

#[tokio::test]
async fn an_escalation_notifies_the_supervisors_and_the_assignee() {
    let app = spawn_app().await;
    let (mut complaint, created) = ComplaintScript::create("Broken heater", "ada@example.com");
    app.publish(&created).await;
    app.publish(&complaint.assign("agent-002")).await;
    app.publish(&complaint.escalate()).await;

    for supervisor in [
        "sofia.marchetti@support.example.com",
        "omar.haddad@support.example.com",
    ] {
        let mails = app.smtp.wait_for(1, supervisor).await;
        assert!(mails[0].subject.contains("Escalation"), "{mails:?}");
    }
    let to_assignee = app
        .smtp
        .wait_for(2, "bruno.keller@support.example.com")
        .await;
    assert!(to_assignee
        .iter()
        .any(|m| m.subject.contains("escalated to HIGH")));
    let id = complaint.id.clone();
    let sent = app
        .published
        .wait_for_count("NOTIFICATION_SENT", 3, |d| {
            d["complaintId"] == id.as_str() && d["step"] == "escalation"
        })
        .await;
    let mut audiences: Vec<&str> = sent
        .iter()
        .map(|e| e.event_data["audience"].as_str().unwrap())
        .collect();
    audiences.sort_unstable();
    assert_eq!(audiences, vec!["assignee", "supervisor", "supervisor"]);
    app.stop().await;
}

#[tokio::test]
async fn an_unreachable_mail_server_is_retried_then_the_notification_fails_if_the_circuit_stays_closed(
) {
    // A breaker that never opens: the retries alone decide (see circuit.rs for the default).
    let app = spawn_app_with(Options {
        smtp_down: true,
        breaker: BreakerSettings {
            consecutive_failures: 100,
            min_calls: 100,
            ..BreakerSettings::default()
        },
        ..Options::default()
    })
    .await;
    let (complaint, created) = ComplaintScript::create("Cold soup", "ada@example.com");
    app.publish(&created).await;

    let id = complaint.id.clone();
    let failed = app
        .published
        .wait_for("NOTIFICATION_FAILED", |d| d["complaintId"] == id.as_str())
        .await;
    assert_eq!(failed.event_data["attempts"], 5);
    let reason = failed.event_data["reason"].as_str().unwrap();
    assert!(
        reason.contains("retries exhausted after 5 attempts"),
        "{reason}"
    );
    let history = app.history(&id).await;
    assert_eq!(history[0]["status"], "FAILED");
    assert_eq!(history[0]["attempts"], 5);
    app.stop().await;
}
