//! A complaint's life through HTTP, and reading one's own writes.

use crate::harness::{self, new_complaint, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{json, Value};
use shared::{
    auth::{mint::TokenSpec, Role},
    test_support::auth,
};
use std::time::Duration;

fn event_types(view: &Value) -> Vec<String> {
    view["timeline"]
        .as_array()
        .expect("a timeline")
        .iter()
        .map(|e| e["eventType"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_complaint_goes_from_open_to_closed_and_back() {
    let app = spawn_app().await;

    // The actor is the token's subject; an X-User-Id header claims nothing.
    let clerk = auth::bearer(&auth::token(&TokenSpec::new("clerk-1", &Role::ALL)));
    let created = app
        .create_with(
            new_complaint(1),
            &[("authorization", &clerk), ("x-user-id", "impostor")],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.id();
    assert_eq!(created.version(), 1);
    assert_eq!(created.body["status"], "OPEN");
    assert_eq!(
        created.header("location"),
        Some(format!("/api/complaints/{id}").as_str())
    );
    assert_eq!(created.header("etag"), Some("\"1\""));

    let assigned = app
        .command(&id, "assign", json!({ "agentId": "agent-1" }))
        .await;
    assert_eq!(assigned.status, StatusCode::OK);
    assert_eq!(assigned.body["status"], "ASSIGNED");
    assert_eq!(assigned.body["assignee"], "agent-1");
    assert_eq!(assigned.version(), 2);
    assert_eq!(
        app.ok(&id, "assign", json!({ "agentId": "agent-2" })).await,
        3,
        "reassign"
    );
    assert_eq!(app.ok(&id, "process", Value::Null).await, 4);
    assert_eq!(
        app.ok(&id, "assign", json!({ "agentId": "agent-3" })).await,
        5,
        "reassign while in progress"
    );
    assert_eq!(app.ok(&id, "process", json!({})).await, 6);
    assert_eq!(
        app.ok(
            &id,
            "priority",
            json!({ "priority": "CRITICAL", "reason": "VIP" })
        )
        .await,
        7
    );
    let resolved = app
        .command(
            &id,
            "resolve",
            json!({ "resolution": "Refunded the second debit" }),
        )
        .await;
    assert_eq!(resolved.body["status"], "RESOLVED");
    assert_eq!(app.ok(&id, "close", Value::Null).await, 9);
    let reopened = app
        .command(&id, "reopen", json!({ "reason": "Debited again" }))
        .await;
    assert_eq!(reopened.status, StatusCode::OK);
    assert_eq!(reopened.body["status"], "ASSIGNED", "back to its assignee");
    assert_eq!(reopened.version(), 10);

    let view = app.complaint_at(&id, 10).await;
    assert_eq!(view["id"], id.as_str());
    assert_eq!(view["version"], 10);
    assert_eq!(view["status"], "ASSIGNED");
    assert_eq!(view["priority"], "CRITICAL");
    assert_eq!(view["assignee"], "agent-3");
    assert_eq!(view["reopenCount"], 1);
    assert_eq!(view["title"], "Charged twice for order 1");
    assert_eq!(view["customerId"], "customer-1");
    assert!(
        view["resolvedAt"].is_null(),
        "a reopened complaint is unresolved"
    );
    assert_eq!(
        event_types(&view),
        [
            "COMPLAINT_CREATED",
            "COMPLAINT_ASSIGNED",
            "COMPLAINT_ASSIGNED",
            "COMPLAINT_PROCESSED",
            "COMPLAINT_ASSIGNED",
            "COMPLAINT_PROCESSED",
            "COMPLAINT_PRIORITY_CHANGED",
            "COMPLAINT_RESOLVED",
            "COMPLAINT_CLOSED",
            "COMPLAINT_REOPENED",
        ]
    );
    assert_eq!(view["timeline"][0]["userId"], "clerk-1");
    assert_eq!(view["timeline"][1]["data"]["agentId"], "agent-1");
    assert_eq!(view["timeline"][2]["data"]["previousAgentId"], "agent-1");
    app.stop().await;
}

#[tokio::test]
async fn a_read_asking_for_the_version_just_written_sees_it() {
    let app = spawn_app().await;
    let id = app.created(1).await;
    for n in 0..5 {
        let version = app
            .ok(&id, "assign", json!({ "agentId": format!("agent-{n}") }))
            .await;
        let reply = app
            .request(
                reqwest::Method::GET,
                &format!("/api/complaints/{id}"),
                &[("x-min-version", &version.to_string())],
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body["version"], version, "no stale read");
        assert_eq!(reply.body["assignee"], format!("agent-{n}"));
        assert_eq!(
            reply.header("etag"),
            Some(format!("\"{version}\"").as_str())
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_read_the_projection_cannot_satisfy_in_time_says_so_instead_of_answering_stale() {
    let first = spawn_app().await;
    let id = first.created(1).await;
    first.complaint_at(&id, 1).await;
    let (config, vhost) = (first.config.clone(), first.vhost.clone());
    first.stop().await;

    let mut config = config;
    config.projection.enabled = false;
    config.projection.max_read_wait = Duration::from_millis(300);
    let app = harness::start(config, vhost).await;
    let version = app.ok(&id, "assign", json!({ "agentId": "agent-1" })).await;
    let reply = app
        .get(&format!("/api/complaints/{id}?minVersion={version}"))
        .await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.code(), "READ_MODEL_BEHIND");
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert_eq!(reply.body["error"]["details"]["requestedVersion"], version);
    assert_eq!(reply.body["error"]["details"]["readModelVersion"], 1);
    let plain = app.get(&format!("/api/complaints/{id}")).await;
    assert_eq!(
        plain.status,
        StatusCode::OK,
        "without minVersion: what it has"
    );
    assert_eq!(plain.body["version"], 1);
    app.stop().await;
}

#[tokio::test]
async fn a_read_asking_for_a_version_never_written_is_told_so_at_once() {
    let app = spawn_app().await;
    let id = app.created(1).await;
    for (query, header) in [("?minVersion=99", None), ("", Some("99"))] {
        let headers: Vec<(&str, &str)> = header.map(|v| ("x-min-version", v)).into_iter().collect();
        let reply = app
            .request(
                reqwest::Method::GET,
                &format!("/api/complaints/{id}{query}"),
                &headers,
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::CONFLICT, "{:?}", reply.body);
        assert_eq!(reply.code(), "VERSION_NOT_WRITTEN");
        assert_eq!(reply.header("retry-after"), Some("1"));
        assert_eq!(reply.body["error"]["details"]["currentVersion"], 1);
        assert_eq!(reply.body["error"]["details"]["requestedVersion"], 99);
    }
    let unknown = uuid::Uuid::now_v7();
    let reply = app
        .get(&format!("/api/complaints/{unknown}?minVersion=1"))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn a_complaint_that_was_never_created_is_not_found() {
    let app = spawn_app_with(|_| {}).await;
    let unknown = uuid::Uuid::now_v7();
    let reply = app.get(&format!("/api/complaints/{unknown}")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.code(), "COMPLAINT_NOT_FOUND");
    let reply = app.get("/api/complaints/not-an-id").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = app
        .command(
            &unknown.to_string(),
            "assign",
            json!({ "agentId": "agent-1" }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.code(), "COMPLAINT_NOT_FOUND");
    let reply = app.command("nope", "close", Value::Null).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    app.stop().await;
}
