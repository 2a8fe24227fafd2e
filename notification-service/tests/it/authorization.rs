//! The authorization matrix of notification-service, through HTTP: every route × every role,
//! plus no token (ARCHITECTURE.md, "Who may do what").

use crate::{complaints::ComplaintScript, harness::spawn_app};
use reqwest::StatusCode;
use shared::test_support::{
    auth::{header_for, CALLERS},
    Matrix,
};

/// The customer of `ComplaintScript::create`.
const CUSTOMER: &str = "customer-42";

#[tokio::test]
async fn every_route_answers_each_role_as_the_matrix_says() {
    let app = spawn_app().await;
    let (complaint, created) = ComplaintScript::create("Broken invoice", "ada@example.com");
    app.publish(&created).await;
    let acknowledgement = app
        .wait_for_notification("the acknowledgement", &complaint.id, |n| {
            n["audience"] == "complainant"
        })
        .await;
    let notification = acknowledgement["id"].as_str().unwrap().to_owned();
    let (_, queues) = app.get("/admin/dead-letters").await;
    let queue = queues[0]["queue"]
        .as_str()
        .expect("a work queue")
        .to_owned();

    let rows: Vec<(String, [u16; 6])> = vec![
        (
            format!("/api/notifications?complaintId={}", complaint.id),
            [200, 403, 200, 403, 403, 401],
        ),
        (
            format!("/api/notifications/{notification}"),
            [200, 403, 200, 403, 403, 401],
        ),
        ("/api/agents".into(), [403, 403, 200, 403, 200, 401]),
        (
            "/api/agents/agent-001".into(),
            [403, 403, 200, 403, 200, 401],
        ),
        ("/admin/dead-letters".into(), [403, 403, 403, 403, 200, 401]),
        (
            format!("/admin/dead-letters/{queue}"),
            [403, 403, 403, 403, 200, 401],
        ),
    ];
    let mut matrix = Matrix::default();
    for (path, expect) in &rows {
        for (column, caller) in CALLERS.iter().enumerate() {
            let header = header_for(caller, CUSTOMER, "agent-001");
            let (status, body) = app.get_as(path, Some(&header)).await;
            matrix.check(
                &format!("GET {path}"),
                caller,
                expect[column],
                status,
                &body,
            );
        }
    }
    // The one POST route: redrive.
    for (column, caller) in CALLERS.iter().enumerate() {
        let header = header_for(caller, CUSTOMER, "agent-001");
        let status = app
            .client
            .post(format!(
                "{}/admin/dead-letters/{queue}/redrive",
                app.address
            ))
            .header("authorization", header)
            .send()
            .await
            .unwrap()
            .status();
        let expected = [403, 403, 403, 403, 200, 401][column];
        matrix.check(
            "POST redrive",
            caller,
            expected,
            status,
            &serde_json::Value::Null,
        );
    }
    matrix.assert_holds();
    app.stop().await;
}

#[tokio::test]
async fn a_customer_reads_only_the_notifications_of_its_own_complaints() {
    let app = spawn_app().await;
    let (complaint, created) = ComplaintScript::create("Broken invoice", "ada@example.com");
    app.publish(&created).await;
    let acknowledgement = app
        .wait_for_notification("the acknowledgement", &complaint.id, |n| {
            n["audience"] == "complainant"
        })
        .await;
    let path = format!("/api/notifications?complaintId={}", complaint.id);

    let someone_else = header_for("customer", "customer-7", "agent-001");
    let (status, body) = app.get_as(&path, Some(&someone_else)).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another customer's complaint: {body}"
    );
    let by_id = format!(
        "/api/notifications/{}",
        acknowledgement["id"].as_str().unwrap()
    );
    let (status, _) = app.get_as(&by_id, Some(&someone_else)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let owner = header_for("customer", CUSTOMER, "agent-001");
    let (status, body) = app.get_as("/api/notifications", Some(&owner)).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a customer names its complaint: {body}"
    );
    let (status, body) = app.get_as(&path, Some(&owner)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["audience"] == "complainant"),
        "only what was written to the customer: {body}"
    );
    app.stop().await;
}
