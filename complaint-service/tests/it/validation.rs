//! Bad input gets a 4xx JSON error that says what is wrong, never a 500.

use crate::harness::{new_complaint, spawn_app, Reply, RequestBody, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn post_raw(app: &TestApp, content_type: &'static str, body: &[u8]) -> Reply {
    app.request(
        Method::POST,
        "/api/complaints",
        &[],
        Some(RequestBody::Raw(content_type, body.to_vec())),
    )
    .await
}

fn with(mut body: Value, pointer: &str, value: Value) -> Value {
    *body
        .pointer_mut(pointer)
        .expect("a field of the valid body") = value;
    body
}

fn assert_error(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{:?}", reply.body);
    assert_eq!(reply.code(), code, "{:?}", reply.body);
    assert!(
        reply.body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "a message: {:?}",
        reply.body
    );
}

#[tokio::test]
async fn malformed_create_bodies_get_4xx_json_errors() {
    let app = spawn_app().await;

    let reply = post_raw(&app, "application/json", b"{\"title\": ").await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "MALFORMED_JSON");
    let reply = post_raw(&app, "text/plain", b"hello").await;
    assert_error(
        &reply,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
    );

    let wrong_type = with(new_complaint(1), "/title", json!(42));
    assert_error(
        &app.create(wrong_type).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    );

    let mut unknown = new_complaint(1);
    unknown["colour"] = json!("red");
    let reply = app.create(unknown).await;
    assert_error(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    );
    assert!(reply.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("colour"));

    let mut missing = new_complaint(1);
    missing.as_object_mut().unwrap().remove("customer");
    assert_error(
        &app.create(missing).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    );

    let bad_enum = with(new_complaint(1), "/priority", json!("URGENT"));
    let reply = app.create(bad_enum).await;
    assert_error(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    );
    assert!(reply.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("URGENT"));

    for (pointer, value, field) in [
        ("/title", json!("x".repeat(201)), "title"),
        ("/title", json!("  "), "title"),
        ("/description", json!("x".repeat(5001)), "description"),
        ("/category", json!("late delivery"), "category"),
        ("/customer/email", json!("not-an-email"), "customer.email"),
        ("/customer/id", json!("c 1"), "customer.id"),
    ] {
        let reply = app.create(with(new_complaint(1), pointer, value)).await;
        assert_error(
            &reply,
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        );
        assert_eq!(reply.body["error"]["details"]["field"], field);
    }

    let huge = with(new_complaint(1), "/description", json!("x".repeat(100_000)));
    let reply = post_raw(
        &app,
        "application/json",
        &serde_json::to_vec(&huge).unwrap(),
    )
    .await;
    assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE");

    app.settled().await;
    assert!(app.ids("").await.is_empty(), "nothing was created");
    app.stop().await;
}

#[tokio::test]
async fn malformed_commands_and_headers_get_4xx_json_errors() {
    let app = spawn_app().await;
    let id = app.created(1).await;

    let reply = app.command(&id, "assign", json!({ "agent": "a-1" })).await;
    assert_error(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    );
    let reply = app.command(&id, "assign", json!({ "agentId": "" })).await;
    assert_error(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    );
    assert_eq!(reply.body["error"]["details"]["field"], "agentId");
    let reply = app
        .command(&id, "priority", json!({ "priority": "SOON" }))
        .await;
    assert_error(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    );
    let reply = app
        .command(
            &id,
            "priority",
            json!({ "priority": "LOW", "reason": "x".repeat(501) }),
        )
        .await;
    assert_eq!(reply.body["error"]["details"]["field"], "reason");
    let reply = app
        .request(
            Method::PUT,
            &format!("/api/complaints/{id}/process"),
            &[],
            Some(RequestBody::Raw("application/json", b"{oops".to_vec())),
        )
        .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "MALFORMED_JSON");
    let reply = app.command(&id, "process", json!({ "note": "x" })).await;
    assert_error(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    );

    let reply = app
        .command_with(
            &id,
            "assign",
            json!({ "agentId": "a-1" }),
            &[("if-match", "latest")],
        )
        .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "INVALID_HEADER");
    let reply = app
        .request(Method::DELETE, &format!("/api/complaints/{id}"), &[], None)
        .await;
    assert_error(&reply, StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED");

    let still = app.complaint_at(&id, 1).await;
    assert_eq!(still["status"], "OPEN", "no bad request changed anything");
    assert_eq!(still["version"], 1);
    app.stop().await;
}

#[tokio::test]
async fn malformed_queries_get_4xx_json_errors() {
    let app = spawn_app().await;
    for (query, status, code) in [
        (
            "?limit=0",
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        ),
        (
            "?limit=101",
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        ),
        ("?limit=ten", StatusCode::BAD_REQUEST, "INVALID_QUERY"),
        (
            "?status=DONE",
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        ),
        (
            "?priority=SOON",
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        ),
        (
            "?createdFrom=yesterday",
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY",
        ),
        ("?sort=title", StatusCode::BAD_REQUEST, "INVALID_QUERY"),
        (
            "?cursor=not-a-cursor",
            StatusCode::BAD_REQUEST,
            "INVALID_CURSOR",
        ),
        ("?cursor=00ff", StatusCode::BAD_REQUEST, "INVALID_CURSOR"),
    ] {
        let reply = app.get(&format!("/api/complaints{query}")).await;
        assert_error(&reply, status, code);
    }
    let id = app.created(1).await;
    let reply = app
        .get(&format!("/api/complaints/{id}?minVersion=-1"))
        .await;
    assert_error(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    );
    let reply = app
        .request(
            Method::GET,
            &format!("/api/complaints/{id}"),
            &[("x-min-version", "soon")],
            None,
        )
        .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "INVALID_HEADER");
    app.stop().await;
}

/// Issue 10: a NUL reached PostgreSQL and answered 500; a broken body said "unknown field".
#[tokio::test]
async fn control_characters_and_broken_json_are_400s_never_500s() {
    let app = spawn_app().await;
    let id = app.created(1).await;
    for query in [
        "customer=%00",
        "assignee=%00",
        "q=%00",
        "category=a%1Fb",
        "status=%7F",
    ] {
        let reply = app.get(&format!("/api/complaints?{query}")).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "INVALID_CHARACTER");
    }
    let reply = app.get("/api/complaints/%00").await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "INVALID_CHARACTER");

    let reply = app
        .request(
            Method::PUT,
            &format!("/api/complaints/{id}/assign"),
            &[],
            Some(RequestBody::Raw(
                "application/json",
                br#"{"title": "unterminated"#.to_vec(),
            )),
        )
        .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "MALFORMED_JSON");
    let reply = app
        .command(&id, "assign", json!({ "agentId": "agent\u{0}1" }))
        .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "INVALID_CHARACTER");
    let reply = post_raw(
        &app,
        "application/json",
        &serde_json::to_vec(&with(new_complaint(2), "/customer/name", json!("Ada\u{0}"))).unwrap(),
    )
    .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "INVALID_CHARACTER");
    assert_eq!(reply.body["error"]["details"]["field"], "customer.name");

    for action in ["process", "close"] {
        let reply = app
            .request(
                Method::PUT,
                &format!("/api/complaints/{id}/{action}"),
                &[],
                Some(RequestBody::Raw("application/json", b"null".to_vec())),
            )
            .await;
        // `null` is read as no body: the command reaches the complaint, which is OPEN.
        assert_error(&reply, StatusCode::CONFLICT, "INVALID_TRANSITION");
    }
    app.stop().await;
}
