//! A user's mistake is a clear 4xx JSON error, never a 500; the API is documented.

use crate::harness::spawn_app;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn bad_query_parameters_are_400_with_a_json_error() {
    let app = spawn_app().await;
    let cases = [
        ("/api/events/all?limit=0", "INVALID_QUERY"),
        ("/api/events/all?limit=1001", "INVALID_QUERY"),
        ("/api/events/all?limit=many", "INVALID_QUERY"),
        ("/api/events/all?after=-1", "INVALID_QUERY"),
        ("/api/events/all?from=yesterday", "INVALID_QUERY"),
        ("/api/events/all?eventType=", "INVALID_QUERY"),
        ("/api/events/all?colour=blue", "INVALID_QUERY"),
        (
            "/api/events/stream/Complaint-x?fromVersion=0",
            "INVALID_QUERY",
        ),
        ("/api/events/state/x?atVersion=0", "INVALID_QUERY"),
        ("/api/events/state/x?asOf=soon", "INVALID_QUERY"),
        (
            "/api/events/redis-streams/complaints-stream/groups/g/read",
            "INVALID_QUERY",
        ),
        (
            "/api/events/redis-streams/complaints-stream/groups/g/read?consumer=c&count=0",
            "INVALID_QUERY",
        ),
        (
            "/api/events/redis-streams/complaints-stream/groups/g/read?consumer=c&blockMs=99999",
            "INVALID_QUERY",
        ),
        (
            "/api/events/redis-streams/bad%20name/groups/g/read?consumer=c",
            "INVALID_QUERY",
        ),
        (
            "/api/events/redis-streams/complaints-stream/groups/g/read?consumer=a*b",
            "INVALID_QUERY",
        ),
    ];
    for (path, code) in cases {
        let reply = app.client.get(path).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            reply.body
        );
        assert_eq!(reply.code(), code, "{path}: {}", reply.body);
        assert!(reply.body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    // An empty interval is no mistake: it finds nothing (a client cannot learn from the
    // OpenAPI document that `to` must exceed `from`).
    let reply = app
        .client
        .get("/api/events/all?from=2024-05-02T00:00:00Z&to=2024-05-01T00:00:00Z")
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["events"], json!([]));
}

#[tokio::test]
async fn bad_bodies_are_refused_with_the_reason() {
    let app = spawn_app().await;
    let group = "/api/events/redis-streams/complaints-stream/groups/g";
    let cases = [
        (
            "/api/events/replay/Complaint-x",
            json!({ "exchange": "yes" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/events/replay/Complaint-x",
            json!({ "exchange": true, "fromVersion": 0 }),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/events/replay/Complaint-x",
            json!({ "exchange": true, "extra": 1 }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &format!("{group}/ack"),
            json!({ "ids": [] }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &format!("{group}/ack"),
            json!({ "ids": ["not-an-id"] }),
            StatusCode::BAD_REQUEST,
        ),
        (
            &format!("{group}/claim"),
            json!({ "consumer": "c" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &format!("{group}/claim"),
            json!({ "consumer": "c", "minIdleMs": 0, "start": "x" }),
            StatusCode::BAD_REQUEST,
        ),
        (
            // 2^63: Redis takes a signed count and failed with a 500 (issue 10).
            &format!("{group}/claim"),
            json!({ "consumer": "c", "minIdleMs": 9_223_372_036_854_775_808_u64 }),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (path, body, status) in cases {
        let reply = app.client.post(path, body.clone()).await;
        assert_eq!(reply.status, status, "{path} {body}: {}", reply.body);
        assert!(!reply.code().is_empty(), "{path}: {}", reply.body);
    }
}

#[tokio::test]
async fn an_empty_stream_is_not_found() {
    let app = spawn_app().await;
    let reply = app.client.get("/api/events/stream/Complaint-nobody").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.code(), "NOT_FOUND");
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let app = spawn_app().await;
    let doc = app.client.get("/api-docs/openapi.json").await.body;
    let group = "/api/events/redis-streams/{stream}/groups/{group}";
    for (path, method) in [
        ("/api/events/stream/{streamId}", "get"),
        ("/api/events/all", "get"),
        ("/api/events/replay/{streamId}", "post"),
        ("/api/events/state/{aggregateId}", "get"),
        ("/api/events/statistics", "get"),
        (group, "put"),
        (&format!("{group}/read"), "get"),
        (&format!("{group}/ack"), "post"),
        (&format!("{group}/claim"), "post"),
        (&format!("{group}/pending"), "get"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is not documented"
        );
    }
}
