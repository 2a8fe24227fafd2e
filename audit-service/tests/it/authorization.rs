//! The authorization matrix of audit-service, through HTTP: every route × every role, plus
//! no token (ARCHITECTURE.md, "Who may do what").

use crate::harness::spawn_app;
use reqwest::Method;
use shared::test_support::{
    auth::{header_for, CALLERS},
    Matrix,
};

#[tokio::test]
async fn every_route_answers_each_role_as_the_matrix_says() {
    let app = spawn_app().await;
    let queue = app.get("/admin/dead-letters").await.body[0]["queue"]
        .as_str()
        .expect("a work queue")
        .to_owned();
    // Nothing is recorded: the trail and a correlation are 404 to those who may look.
    let rows: Vec<(Method, String, [u16; 6])> = vec![
        (
            Method::GET,
            "/api/audit/trail/c-1".into(),
            [403, 403, 403, 404, 403, 401],
        ),
        (
            Method::GET,
            "/api/audit/search?q=charged".into(),
            [403, 403, 403, 200, 403, 401],
        ),
        (
            Method::GET,
            "/api/audit/events".into(),
            [403, 403, 403, 200, 403, 401],
        ),
        (
            Method::GET,
            "/api/audit/correlation/corr-1".into(),
            [403, 403, 403, 404, 403, 401],
        ),
        (
            Method::GET,
            "/api/audit/verify".into(),
            [403, 403, 403, 200, 200, 401],
        ),
        (
            Method::GET,
            "/admin/dead-letters".into(),
            [403, 403, 403, 403, 200, 401],
        ),
        (
            Method::GET,
            format!("/admin/dead-letters/{queue}"),
            [403, 403, 403, 403, 200, 401],
        ),
        (
            Method::POST,
            format!("/admin/dead-letters/{queue}/redrive"),
            [403, 403, 403, 403, 200, 401],
        ),
    ];
    let mut matrix = Matrix::default();
    for (method, path, expect) in &rows {
        for (column, caller) in CALLERS.iter().enumerate() {
            let header = header_for(caller, "customer-1", "agent-001");
            let reply = app.request_as(method.clone(), path, Some(&header)).await;
            let route = format!("{method} {path}");
            matrix.check(&route, caller, expect[column], reply.status, &reply.body);
        }
    }
    matrix.assert_holds();
    app.stop().await;
}
