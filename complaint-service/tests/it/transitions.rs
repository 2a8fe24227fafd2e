//! Every command a complaint's status does not allow is refused with 409 and a clear code.

use crate::harness::{spawn_app, spawn_app_with, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

fn body_of(action: &str) -> Value {
    match action {
        "assign" => json!({ "agentId": "agent-9" }),
        "resolve" => json!({ "resolution": "Refunded" }),
        "reopen" => json!({ "reason": "Not fixed" }),
        "priority" => json!({ "priority": "LOW" }),
        _ => Value::Null,
    }
}

/// A complaint brought to `status` through the API.
async fn complaint_in(app: &TestApp, n: usize, status: &str) -> String {
    let id = app.created(n).await;
    let steps: &[&str] = match status {
        "OPEN" => &[],
        "ASSIGNED" => &["assign"],
        "IN_PROGRESS" => &["assign", "process"],
        "RESOLVED" => &["assign", "process", "resolve"],
        "CLOSED" => &["assign", "process", "resolve", "close"],
        other => panic!("no way to {other}"),
    };
    for step in steps {
        app.ok(&id, step, body_of(step)).await;
    }
    id
}

#[tokio::test]
async fn every_invalid_transition_is_refused_with_409_and_changes_nothing() {
    let app = spawn_app().await;
    let refused: &[(&str, &[&str])] = &[
        ("OPEN", &["process", "resolve", "close", "reopen"]),
        ("ASSIGNED", &["resolve", "close", "reopen"]),
        ("IN_PROGRESS", &["process", "close", "reopen"]),
        ("RESOLVED", &["assign", "process", "resolve"]),
        (
            "CLOSED",
            &["assign", "process", "resolve", "close", "priority"],
        ),
    ];
    for (n, (status, actions)) in refused.iter().enumerate() {
        let id = complaint_in(&app, n, status).await;
        let version_before = app.get(&format!("/api/complaints/{id}?minVersion=1")).await;
        for action in *actions {
            let reply = app.command(&id, action, body_of(action)).await;
            assert_eq!(
                reply.status,
                StatusCode::CONFLICT,
                "{action} on {status}: {:?}",
                reply.body
            );
            assert_eq!(reply.code(), "INVALID_TRANSITION", "{action} on {status}");
            assert_eq!(reply.body["error"]["details"]["status"], *status);
            let message = reply.body["error"]["message"].as_str().unwrap();
            assert!(message.contains(status), "{message}");
        }
        app.settled().await;
        let after = app.get(&format!("/api/complaints/{id}")).await;
        assert_eq!(after.body["status"], *status);
        assert!(after.body["version"].as_i64() >= version_before.body["version"].as_i64());
    }
    app.stop().await;
}

#[tokio::test]
async fn pointless_commands_are_refused_with_their_own_codes() {
    let app = spawn_app().await;
    let id = complaint_in(&app, 1, "ASSIGNED").await;
    let reply = app
        .command(&id, "assign", json!({ "agentId": "agent-9" }))
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.code(), "ALREADY_ASSIGNED");
    let reply = app
        .command(&id, "priority", json!({ "priority": "HIGH" }))
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.code(), "SAME_PRIORITY");
    app.stop().await;
}

#[tokio::test]
async fn reopening_after_the_window_is_refused() {
    let app = spawn_app_with(|config| config.policy.reopen_window = Duration::from_millis(1)).await;
    let id = complaint_in(&app, 1, "CLOSED").await;
    tokio::time::sleep(Duration::from_millis(20)).await; // let the 1 ms window pass
    let reply = app
        .command(&id, "reopen", json!({ "reason": "Too late" }))
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.code(), "REOPEN_WINDOW_EXPIRED");
    assert!(reply.body["error"]["details"]["windowEndedAt"].is_string());
    app.stop().await;
}

#[tokio::test]
async fn patch_works_like_put() {
    let app = spawn_app().await;
    let id = app.created(1).await;
    let reply = app
        .request(
            reqwest::Method::PATCH,
            &format!("/api/complaints/{id}/assign"),
            &[],
            Some(crate::harness::RequestBody::Json(
                json!({ "agentId": "agent-1" }),
            )),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["status"], "ASSIGNED");
    app.stop().await;
}
