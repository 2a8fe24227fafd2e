//! The HTTP API: the agent directory, clear 4xx errors, the OpenAPI document.

use crate::{
    complaints::ComplaintScript,
    harness::{seed_file, spawn_app},
};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn the_agent_directory_lists_the_seed() {
    let app = spawn_app().await;
    let seed: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(seed_file()).unwrap()).unwrap();

    let (status, body) = app.get("/api/agents").await;
    assert_eq!(status, StatusCode::OK);
    let mut expected = seed.clone();
    expected.sort_by_key(|a| a["id"].as_str().unwrap().to_owned());
    assert_eq!(body["items"], Value::Array(expected));

    let (_, supervisors) = app.get("/api/agents?role=SUPERVISOR&active=true").await;
    let ids: Vec<&str> = supervisors["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["supervisor-001", "supervisor-002"]);

    let (status, alice) = app.get("/api/agents/agent-001").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(alice["name"], "Alice Martin");
    assert_eq!(alice["role"], "AGENT");

    let (status, body) = app.get("/api/agents/nobody").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "NOT_FOUND");
    app.stop().await;
}

#[tokio::test]
async fn bad_parameters_are_answered_with_400() {
    let app = spawn_app().await;
    for path in [
        "/api/notifications?limit=abc",
        "/api/notifications?limit=0",
        "/api/notifications?limit=501",
        "/api/notifications?status=LOST",
        "/api/notifications?step=teleport",
        "/api/notifications?complaintId=",
        "/api/notifications?before=yesterday",
        "/api/notifications?colour=blue",
        "/api/notifications/not-a-uuid",
        "/api/agents?role=KING",
        "/api/agents?active=maybe",
    ] {
        let (status, body) = app.get(path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert!(body["error"]["code"].is_string(), "{path}: {body}");
        assert!(body["error"]["message"].is_string(), "{path}: {body}");
    }
    let (status, body) = app
        .get(&format!("/api/notifications/{}", uuid::Uuid::now_v7()))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = app
        .get("/api/notifications?complaintId=never-heard-of")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["items"], Value::Array(vec![]));
    app.stop().await;
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let app = spawn_app().await;
    let (status, doc) = app.get("/api-docs/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/api/agents",
        "/api/agents/{id}",
        "/api/notifications",
        "/api/notifications/{id}",
    ] {
        assert!(
            doc["paths"][path]["get"].is_object(),
            "{path} is not documented"
        );
    }
    for schema in ["NotificationOutcome", "NotificationCompensation", "Agent"] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "{schema} is not documented"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn the_history_is_newest_first_and_comes_in_pages() {
    let app = spawn_app().await;
    let (mut complaint, created) = ComplaintScript::create("Scratched table", "ada@example.com");
    app.publish(&created).await;
    app.publish(&complaint.assign("agent-003")).await;
    let id = complaint.id.clone();
    app.published
        .wait_for_count("NOTIFICATION_SENT", 3, |d| d["complaintId"] == id.as_str())
        .await;

    let (status, first) = app
        .get(&format!("/api/notifications?complaintId={id}&limit=2"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let items = first["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["step"], "assignment");
    assert!(items[0]["createdAt"].as_str() >= items[1]["createdAt"].as_str());
    assert!(items.iter().all(|n| n.get("body").is_none()));
    let cursor = first["nextBefore"].as_str().expect("a next page");

    let (_, second) = app
        .get(&format!(
            "/api/notifications?complaintId={id}&limit=2&before={cursor}"
        ))
        .await;
    let items = second["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["step"], "acknowledgement");
    assert!(second.get("nextBefore").is_none());

    let (_, sent) = app
        .get(&format!(
            "/api/notifications?complaintId={id}&status=SENT&step=assignment"
        ))
        .await;
    assert_eq!(sent["items"].as_array().unwrap().len(), 2);
    app.stop().await;
}

/// Issue 10: a NUL in a parameter reached PostgreSQL and answered 500.
#[tokio::test]
async fn control_characters_in_parameters_are_400s_never_500s() {
    let app = spawn_app().await;
    for path in [
        "/api/notifications?complaintId=%00",
        "/api/agents/%00",
        "/api/agents/agent%0A001",
        "/api/notifications?status=SENT%7F",
    ] {
        let (status, body) = app.get(path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["error"]["code"], "INVALID_CHARACTER", "{path}");
    }
    app.stop().await;
}
