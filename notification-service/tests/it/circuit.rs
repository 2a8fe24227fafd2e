//! The circuit breaker on the mail server: when the server goes away the circuit opens, the
//! notifications wait in the table (neither failed nor lost), half-open probes test the
//! server, and once it is back every waiting mail is sent exactly once.

use crate::{
    complaints::ComplaintScript,
    harness::{spawn_app, spawn_app_with, Options, TestApp, WAIT},
};
use reqwest::StatusCode;
use shared::test_support::{eventually, metrics_grown, metrics_with, Scrape};
use std::time::Duration;

async fn ready(app: &TestApp) -> serde_json::Value {
    let (status, body) = app.get("/ready").await;
    // Degraded, not unready: nothing is lost while the circuit is open.
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn mail_waits_while_the_server_is_down_and_goes_out_once_when_it_is_back() {
    let mut app = spawn_app().await;
    let before = Scrape::take(&app.address).await;
    let body = ready(&app).await;
    assert_eq!(body["degraded"], false, "{body}");
    assert_eq!(body["checks"]["smtp"], "ok", "{body}");

    // One mail while all is well (the pool now holds a connection to the server).
    let (_, created) = ComplaintScript::create("Broken kettle", "first@example.com");
    app.publish(&created).await;
    app.smtp.wait_for(1, "first@example.com").await;

    app.smtp.stop().await;
    let recipients: Vec<String> = (0..4).map(|i| format!("waiting{i}@example.com")).collect();
    let mut complaints = Vec::new();
    for to in &recipients {
        let (complaint, created) = ComplaintScript::create("Cold radiator", to);
        app.publish(&created).await;
        complaints.push(complaint.id.clone());
    }
    let opened = app
        .published
        .wait_for("MONITORING_CIRCUIT_OPENED", |_| true)
        .await;
    assert_eq!(opened.event_data["circuit"], "smtp");
    assert_eq!(opened.event_data["service"], "notification-service");
    assert!(
        opened.event_data["detail"]
            .as_str()
            .unwrap()
            .contains("in a row"),
        "{}",
        opened.event_data
    );
    let body = ready(&app).await;
    assert_eq!(body["degraded"], true, "{body}");
    assert_ne!(body["checks"]["smtp"], "ok", "{body}");
    metrics_with(&app.address, &["circuit_state"]).await;
    metrics_grown(
        &app.address,
        &before,
        &[("circuit_opened_total{circuit=\"smtp\"}", 1.0)],
    )
    .await;

    // Several probes fail while the server stays down (300 ms apart): still one episode, and
    // every notification still waits.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for id in &complaints {
        let history = app.history(id).await;
        assert_eq!(history.len(), 1, "{history:?}");
        assert_eq!(history[0]["status"], "PENDING", "{history:?}");
    }
    assert!(app
        .published
        .matching("NOTIFICATION_FAILED", |_| true)
        .is_empty());

    app.smtp.start_again().await;
    let closed = app
        .published
        .wait_for("MONITORING_CIRCUIT_CLOSED", |_| true)
        .await;
    assert_eq!(closed.event_data["circuit"], "smtp");
    for to in &recipients {
        app.smtp.wait_for(1, to).await;
    }
    for id in &complaints {
        app.wait_for_notification("the waiting mail sent", id, |n| n["status"] == "SENT")
            .await;
    }
    app.published
        .wait_for_count("NOTIFICATION_SENT", 1 + recipients.len(), |_| true)
        .await;
    eventually("the circuit to show closed", WAIT, || async {
        let body = ready(&app).await;
        (body["degraded"] == false && body["checks"]["smtp"] == "ok").then_some(())
    })
    .await;

    // Exactly once: give a duplicate the time to show up, then count.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for to in recipients
        .iter()
        .map(String::as_str)
        .chain(["first@example.com"])
    {
        assert_eq!(app.smtp.received_by(to).len(), 1, "mail to {to}");
    }
    assert_eq!(
        app.published.matching("NOTIFICATION_SENT", |_| true).len(),
        1 + recipients.len()
    );
    assert_eq!(
        app.published
            .matching("MONITORING_CIRCUIT_OPENED", |_| true)
            .len(),
        1
    );
    assert_eq!(
        app.published
            .matching("MONITORING_CIRCUIT_CLOSED", |_| true)
            .len(),
        1
    );
    app.stop().await;
}

#[tokio::test]
async fn an_unreachable_mail_server_opens_the_circuit_instead_of_failing_the_mail() {
    let app = spawn_app_with(Options {
        smtp_down: true,
        ..Options::default()
    })
    .await;
    let (complaint, created) = ComplaintScript::create("Cold soup", "ada@example.com");
    app.publish(&created).await;

    app.published
        .wait_for("MONITORING_CIRCUIT_OPENED", |_| true)
        .await;
    // Five attempts would fail it; the circuit opened on the third failure and held it since.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let history = app.history(&complaint.id).await;
    assert_eq!(history[0]["status"], "PENDING", "{history:?}");
    assert!(history[0]["attempts"].as_u64().unwrap() < 5, "{history:?}");
    assert!(app
        .published
        .matching("NOTIFICATION_FAILED", |_| true)
        .is_empty());
    app.stop().await;
}
