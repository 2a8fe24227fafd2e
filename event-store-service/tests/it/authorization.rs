//! The authorization matrix of event-store-service, through HTTP: every route × every role,
//! plus no token (ARCHITECTURE.md, "Who may do what").

use crate::harness::spawn_app;
use reqwest::Method;
use serde_json::{json, Value};
use shared::test_support::{
    auth::{header_for, CALLERS},
    Matrix,
};

#[tokio::test]
async fn every_route_answers_each_role_as_the_matrix_says() {
    let app = spawn_app().await;
    let client = &app.client;
    let queue = client.get("/admin/dead-letters").await.body[0]["queue"]
        .as_str()
        .expect("a work queue")
        .to_owned();
    let group = "/api/events/redis-streams/complaints-stream/groups/matrix";
    // The log is empty: a stream, a state and a replay are 404 to those who may ask.
    let rows: Vec<(Method, String, Option<Value>, [u16; 6])> = vec![
        (
            Method::GET,
            "/api/events/stream/Complaint-c-1".into(),
            None,
            [403, 403, 403, 404, 403, 401],
        ),
        (
            Method::GET,
            "/api/events/all".into(),
            None,
            [403, 403, 403, 200, 403, 401],
        ),
        (
            Method::GET,
            "/api/events/state/c-1".into(),
            None,
            [403, 403, 403, 404, 403, 401],
        ),
        (
            Method::GET,
            "/api/events/statistics".into(),
            None,
            [403, 403, 403, 200, 200, 401],
        ),
        (
            Method::POST,
            "/api/events/replay/Complaint-c-1".into(),
            Some(json!({ "redisStream": "replay-matrix" })),
            [403, 403, 403, 403, 404, 401],
        ),
        (
            Method::PUT,
            group.into(),
            None,
            [403, 403, 403, 403, 201, 401],
        ),
        (
            Method::GET,
            format!("{group}/read?consumer=r"),
            None,
            [403, 403, 403, 403, 200, 401],
        ),
        (
            Method::POST,
            format!("{group}/ack"),
            Some(json!({ "ids": ["1-0"] })),
            [403, 403, 403, 403, 200, 401],
        ),
        (
            Method::POST,
            format!("{group}/claim"),
            Some(json!({ "consumer": "r", "minIdleMs": 0 })),
            [403, 403, 403, 403, 200, 401],
        ),
        (
            Method::GET,
            format!("{group}/pending"),
            None,
            [403, 403, 403, 403, 200, 401],
        ),
        (
            Method::GET,
            "/admin/dead-letters".into(),
            None,
            [403, 403, 403, 403, 200, 401],
        ),
        (
            Method::GET,
            format!("/admin/dead-letters/{queue}"),
            None,
            [403, 403, 403, 403, 200, 401],
        ),
        (
            Method::POST,
            format!("/admin/dead-letters/{queue}/redrive"),
            None,
            [403, 403, 403, 403, 200, 401],
        ),
    ];
    let mut matrix = Matrix::default();
    for (method, path, body, expect) in &rows {
        for (column, caller) in CALLERS.iter().enumerate() {
            let header = header_for(caller, "customer-1", "agent-001");
            let reply = client
                .request_as(method.clone(), path, body.clone(), Some(&header))
                .await;
            let route = format!("{method} {path}");
            matrix.check(&route, caller, expect[column], reply.status, &reply.body);
        }
    }
    matrix.assert_holds();
    app.stop().await;
}
