//! The authorization matrix of complaint-service, through HTTP: every route × every role,
//! plus no token, each with the status a user gets (ARCHITECTURE.md, "Who may do what").

use crate::harness::{new_complaint, spawn_app, RequestBody, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use shared::{
    auth::{mint::TokenSpec, Role},
    test_support::{
        auth::{self, CALLERS},
        Matrix,
    },
};

const CUSTOMER: &str = "cust-1";
const AGENT: &str = "agent-001";

/// The `Authorization` of a matrix column: the customer is [`CUSTOMER`], the agent [`AGENT`].
fn authorization(caller: &str) -> String {
    auth::header_for(caller, CUSTOMER, AGENT)
}

/// The state a complaint must be in before the request, `{id}` in the path naming it.
#[derive(Clone, Copy)]
enum Before {
    Nothing,
    Open,
    Assigned,
    InProgress,
    Resolved,
}

struct Row {
    method: Method,
    path: &'static str,
    body: Value,
    before: Before,
    /// customer, agent, supervisor, auditor, admin, none.
    expect: [u16; 6],
}

fn row(method: Method, path: &'static str, before: Before, expect: [u16; 6]) -> Row {
    Row {
        method,
        path,
        body: Value::Null,
        before,
        expect,
    }
}

fn routes() -> Vec<Row> {
    use Before::*;
    let dlq = "/admin/dead-letters/complaint-service.sagas";
    vec![
        Row {
            body: own_complaint(),
            ..row(
                Method::POST,
                "/api/complaints",
                Nothing,
                [201, 201, 201, 403, 403, 401],
            )
        },
        row(
            Method::GET,
            "/api/complaints",
            Nothing,
            [200, 200, 200, 403, 403, 401],
        ),
        row(
            Method::GET,
            "/api/complaints/statistics",
            Nothing,
            [403, 200, 200, 403, 403, 401],
        ),
        row(
            Method::GET,
            "/api/complaints/{id}",
            Open,
            [200, 200, 200, 403, 403, 401],
        ),
        Row {
            body: json!({ "agentId": AGENT }),
            ..row(
                Method::PUT,
                "/api/complaints/{id}/assign",
                Open,
                [403, 403, 200, 403, 403, 401],
            )
        },
        Row {
            body: json!({ "agentId": AGENT }),
            ..row(
                Method::PATCH,
                "/api/complaints/{id}/assign",
                Open,
                [403, 403, 200, 403, 403, 401],
            )
        },
        row(
            Method::PUT,
            "/api/complaints/{id}/process",
            Assigned,
            [403, 200, 200, 403, 403, 401],
        ),
        Row {
            body: json!({ "resolution": "Refunded" }),
            ..row(
                Method::PUT,
                "/api/complaints/{id}/resolve",
                InProgress,
                [403, 200, 200, 403, 403, 401],
            )
        },
        row(
            Method::PUT,
            "/api/complaints/{id}/close",
            Resolved,
            [403, 403, 200, 403, 403, 401],
        ),
        Row {
            body: json!({ "reason": "Still charged twice" }),
            ..row(
                Method::PUT,
                "/api/complaints/{id}/reopen",
                Resolved,
                [200, 403, 200, 403, 403, 401],
            )
        },
        Row {
            body: json!({ "priority": "CRITICAL" }),
            ..row(
                Method::PUT,
                "/api/complaints/{id}/priority",
                Open,
                [403, 403, 200, 403, 403, 401],
            )
        },
        row(
            Method::GET,
            "/api/complaints/{id}/sagas",
            Open,
            [403, 403, 200, 403, 200, 401],
        ),
        // No such saga: 404 to those who may look.
        row(
            Method::GET,
            "/api/sagas/0192f0c4-0000-7000-8000-000000000000",
            Nothing,
            [403, 403, 404, 403, 404, 401],
        ),
        row(
            Method::GET,
            "/api/sagas?status=FAILED",
            Nothing,
            [403, 403, 200, 403, 200, 401],
        ),
        row(
            Method::POST,
            "/api/sagas/0192f0c4-0000-7000-8000-000000000000/retry",
            Nothing,
            [403, 403, 404, 403, 404, 401],
        ),
        Row {
            body: json!({ "reason": "Customer withdrew the complaint" }),
            ..row(
                Method::POST,
                "/api/sagas/0192f0c4-0000-7000-8000-000000000000/abandon",
                Nothing,
                [403, 403, 404, 403, 404, 401],
            )
        },
        row(
            Method::GET,
            "/api/admin/projections",
            Nothing,
            [403, 403, 403, 403, 200, 401],
        ),
        row(
            Method::POST,
            "/api/admin/projections/rebuild",
            Nothing,
            [403, 403, 403, 403, 200, 401],
        ),
        row(
            Method::GET,
            "/admin/dead-letters",
            Nothing,
            [403, 403, 403, 403, 200, 401],
        ),
        row(Method::GET, dlq, Nothing, [403, 403, 403, 403, 200, 401]),
        row(
            Method::POST,
            "/admin/dead-letters/complaint-service.sagas/redrive",
            Nothing,
            [403, 403, 403, 403, 200, 401],
        ),
    ]
}

fn own_complaint() -> Value {
    let mut body = new_complaint(1);
    body["customer"]["id"] = json!(CUSTOMER);
    body
}

/// A complaint of [`CUSTOMER`] in the state `before` asks for, made by the operator.
async fn prepare(app: &TestApp, before: Before) -> Option<String> {
    if matches!(before, Before::Nothing) {
        return None;
    }
    let id = {
        let reply = app.create(own_complaint()).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        reply.id()
    };
    let steps: &[(&str, Value)] = match before {
        Before::Nothing | Before::Open => &[],
        Before::Assigned => &[("assign", json!({ "agentId": AGENT }))][..],
        Before::InProgress | Before::Resolved => &[
            ("assign", json!({ "agentId": AGENT })),
            ("process", Value::Null),
            ("resolve", json!({ "resolution": "Refunded" })),
        ][..if matches!(before, Before::InProgress) {
            2
        } else {
            3
        }],
    };
    let mut version = 1;
    for (action, body) in steps {
        version = app.ok(&id, action, body.clone()).await;
    }
    app.complaint_at(&id, version).await;
    Some(id)
}

#[tokio::test]
async fn every_route_answers_each_role_as_the_matrix_says() {
    let app = spawn_app().await;
    let mut matrix = Matrix::default();
    for row in routes() {
        for (column, caller) in CALLERS.iter().enumerate() {
            let id = prepare(&app, row.before).await;
            let path = match &id {
                Some(id) => row.path.replace("{id}", id),
                None => row.path.to_owned(),
            };
            let header = authorization(caller);
            let body = (!row.body.is_null()).then(|| RequestBody::Json(row.body.clone()));
            let reply = app
                .request(
                    row.method.clone(),
                    &path,
                    &[("authorization", &header)],
                    body,
                )
                .await;
            let expected = row.expect[column];
            let route = format!("{} {}", row.method, row.path);
            matrix.check(&route, caller, expected, reply.status, &reply.body);
            if *caller == "none" && reply.header("www-authenticate").is_none() {
                matrix.wrong(format!(
                    "{} {}: 401 without WWW-Authenticate",
                    row.method, row.path
                ));
            }
            if expected == 403 && reply.code() != "FORBIDDEN" {
                matrix.wrong(format!(
                    "{} {} as {caller}: code {}",
                    row.method,
                    row.path,
                    reply.code()
                ));
            }
        }
    }
    matrix.assert_holds();
    app.stop().await;
}

async fn as_caller(
    app: &TestApp,
    caller: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> crate::harness::Reply {
    let header = authorization(caller);
    app.request(
        method,
        path,
        &[("authorization", &header)],
        body.map(RequestBody::Json),
    )
    .await
}

#[tokio::test]
async fn a_customer_sees_and_reopens_only_its_own_complaints_and_cannot_probe_others() {
    let app = spawn_app().await;
    let own = prepare(&app, Before::Resolved).await.unwrap();
    let others = app.created(2).await; // customer-2's
    app.settled().await;

    let mine = as_caller(
        &app,
        "customer",
        Method::GET,
        &format!("/api/complaints/{own}"),
        None,
    )
    .await;
    assert_eq!(mine.status, StatusCode::OK);
    assert_eq!(
        mine.body["customerEmail"], "ada@example.com",
        "its own address, in full"
    );

    let theirs = as_caller(
        &app,
        "customer",
        Method::GET,
        &format!("/api/complaints/{others}"),
        None,
    )
    .await;
    assert_eq!(
        (theirs.status, theirs.code()),
        (StatusCode::NOT_FOUND, "COMPLAINT_NOT_FOUND"),
        "404, not 403"
    );
    let reopen = as_caller(
        &app,
        "customer",
        Method::PUT,
        &format!("/api/complaints/{others}/reopen"),
        Some(json!({ "reason": "not mine" })),
    )
    .await;
    assert_eq!(reopen.status, StatusCode::NOT_FOUND);

    let list = as_caller(&app, "customer", Method::GET, "/api/complaints", None).await;
    let ids: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [own.as_str()],
        "the list holds its own complaints only"
    );
    let asked_for_another = as_caller(
        &app,
        "customer",
        Method::GET,
        "/api/complaints?customer=customer-2",
        None,
    )
    .await;
    assert_eq!(asked_for_another.body["items"], json!([]));

    let for_another = as_caller(
        &app,
        "customer",
        Method::POST,
        "/api/complaints",
        Some(new_complaint(3)),
    )
    .await;
    assert_eq!(
        (for_another.status, for_another.code()),
        (StatusCode::FORBIDDEN, "FORBIDDEN")
    );
    app.stop().await;
}

#[tokio::test]
async fn an_agent_works_only_on_complaints_assigned_to_it_and_does_not_see_customers_addresses() {
    let app = spawn_app().await;
    let id = app.created(1).await;
    app.ok(&id, "assign", json!({ "agentId": "agent-002" }))
        .await;
    let version = app.ok(&id, "priority", json!({ "priority": "LOW" })).await;
    app.complaint_at(&id, version).await;

    let process = as_caller(
        &app,
        "agent",
        Method::PUT,
        &format!("/api/complaints/{id}/process"),
        None,
    )
    .await;
    assert_eq!(
        (process.status, process.code()),
        (StatusCode::FORBIDDEN, "FORBIDDEN")
    );

    let view = as_caller(
        &app,
        "agent",
        Method::GET,
        &format!("/api/complaints/{id}"),
        None,
    )
    .await;
    assert_eq!(view.status, StatusCode::OK);
    assert_eq!(view.body["customerEmail"], "a***@example.com");
    assert_eq!(
        view.body["timeline"][0]["data"]["customer"]["contact"]["email"],
        "a***@example.com"
    );
    let list = as_caller(&app, "agent", Method::GET, "/api/complaints", None).await;
    assert_eq!(list.body["items"][0]["customerEmail"], "a***@example.com");

    let supervisor = as_caller(
        &app,
        "supervisor",
        Method::GET,
        &format!("/api/complaints/{id}"),
        None,
    )
    .await;
    assert_eq!(supervisor.body["customerEmail"], "ada@example.com");
    app.stop().await;
}

#[tokio::test]
async fn tokens_that_do_not_verify_are_401_with_the_json_error_shape() {
    let app = spawn_app().await;
    let settings = auth::settings();
    let valid = TokenSpec::new("x", &Role::ALL).claims(&settings);
    let expired = shared::auth::Claims {
        exp: 1_000,
        nbf: Some(900),
        ..valid.clone()
    };
    let not_yet = shared::auth::Claims {
        nbf: Some(valid.exp - 60),
        ..valid.clone()
    };
    let other_issuer = shared::auth::Claims {
        iss: "someone-else".into(),
        ..valid.clone()
    };
    let other_audience = shared::auth::Claims {
        aud: "another-api".into(),
        ..valid.clone()
    };
    let sign = |claims| shared::auth::mint::sign(claims, auth::SECRET);
    let unsigned = {
        let token = sign(&valid);
        let mut parts: Vec<&str> = token.split('.').collect();
        // {"alg":"none","typ":"JWT"}
        parts[0] = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
        format!("{}.{}.", parts[0], parts[1])
    };
    let cases = [
        ("alg none", unsigned),
        (
            "a bad signature",
            shared::auth::mint::sign(&valid, "another-secret-another-secret-0123"),
        ),
        ("expired", sign(&expired)),
        ("not yet valid", sign(&not_yet)),
        ("another issuer", sign(&other_issuer)),
        ("another audience", sign(&other_audience)),
        ("not a JWT", "not-a-token".to_owned()),
    ];
    for (what, token) in cases {
        let reply = app
            .request(
                Method::GET,
                "/api/complaints",
                &[("authorization", &auth::bearer(&token))],
                None,
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{what}: {:?}",
            reply.body
        );
        assert_eq!(reply.code(), "UNAUTHENTICATED", "{what}");
        assert!(
            reply
                .header("www-authenticate")
                .is_some_and(|h| h.starts_with("Bearer")),
            "{what}"
        );
    }
    for open in ["/health", "/ready", "/metrics", "/api-docs/openapi.json"] {
        let reply = app
            .client_without_token()
            .get(format!("{}{open}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::OK, "{open} stays open");
    }
    app.stop().await;
}
