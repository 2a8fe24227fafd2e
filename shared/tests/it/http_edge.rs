//! What `service_router` enforces on every route of every service, over real HTTP: control
//! characters refused in path and query, JSON bodies read syntax first, a deadline on each
//! request, and the statuses it adds to the OpenAPI document.

use axum::{
    routing::{get, post, put},
    Router,
};
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};
use shared::{
    auth::{access::allow, Access, Role, Rule, Verifier},
    http::{self, HttpSettings, Json, OptionalJson, Path, Query},
    messaging::{Broker, RetryPolicy, Topology},
    test_support::{self, TestVhost},
};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Every role may call every route of this test edge.
const ROUTES: &[Rule] = &[
    allow("GET", "/echo/{text}", &Role::ALL),
    allow("POST", "/assign", &Role::ALL),
    allow("PUT", "/process", &Role::ALL),
    allow("GET", "/slow", &Role::ALL),
];

#[derive(Deserialize)]
struct Filter {
    q: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Assign {
    #[serde(rename = "agentId")]
    agent_id: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Nothing {}

struct Edge {
    base: String,
    client: reqwest::Client,
    shutdown: CancellationToken,
    broker: Broker,
}

impl Edge {
    async fn start(request_timeout: Duration) -> (Edge, TestVhost) {
        let vhost = TestVhost::create().await;
        let settings = test_support::broker(&vhost, "edge-test");
        let broker = Broker::start(settings, Topology::new(RetryPolicy::default()));
        let api = Router::new()
            .route(
                "/echo/{text}",
                get(
                    |Path(text): Path<String>, Query(filter): Query<Filter>| async move {
                        Json(json!({ "text": text, "q": filter.q }))
                    },
                ),
            )
            .route(
                "/assign",
                post(|Json(body): Json<Assign>| async move {
                    Json(json!({ "agentId": body.agent_id }))
                }),
            )
            .route(
                "/process",
                put(|OptionalJson(_): OptionalJson<Nothing>| async { Json(json!({ "ok": true })) }),
            )
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    "too late"
                }),
            );
        let ops = http::Operations {
            readiness: http::Readiness::new(),
            broker: broker.clone(),
            openapi: utoipa::openapi::OpenApiBuilder::new().build(),
            access: Access::new(
                Verifier::new(&test_support::auth::settings())
                    .await
                    .expect("the test key"),
                ROUTES,
            ),
        };
        let settings = HttpSettings {
            host: "127.0.0.1".into(),
            request_timeout,
            ..HttpSettings::default()
        };
        let router = http::service_router(api, ops, &settings);
        let listener = settings.bind().await.expect("a free port");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shutdown = CancellationToken::new();
        tokio::spawn(http::serve(listener, router, shutdown.clone()));
        let edge = Edge {
            base,
            client: test_support::auth::client(),
            shutdown,
            broker,
        };
        (edge, vhost)
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.expect("the edge answers");
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    async fn get(&self, path_and_query: &str) -> (StatusCode, Value) {
        self.send(self.client.get(format!("{}{path_and_query}", self.base)))
            .await
    }

    async fn body(&self, method: reqwest::Method, path: &str, body: &str) -> (StatusCode, Value) {
        self.send(
            self.client
                .request(method, format!("{}{path}", self.base))
                .header("content-type", "application/json")
                .body(body.to_owned()),
        )
        .await
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.broker.close().await;
    }
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn control_characters_in_path_or_query_are_refused_with_the_json_error() {
    let (edge, _vhost) = Edge::start(Duration::from_secs(30)).await;
    for refused in [
        "/echo/%00",
        "/echo/a%0Ab",
        "/echo/ok?q=%00",
        "/echo/ok?q=tab%09",
        "/echo/ok?q=%7F",
        "/echo/ok?%01=x",
        "/nowhere/%00",
    ] {
        let (status, body) = edge.get(refused).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}: {body}");
        assert_eq!(code(&body), "INVALID_CHARACTER", "{refused}");
    }
    let (status, body) = edge.get("/echo/caf%C3%A9?q=na%C3%AFve%20text").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({ "text": "café", "q": "naïve text" }));
    edge.stop().await;
}

#[tokio::test]
async fn a_body_is_read_syntax_first_then_text_then_shape() {
    let (edge, _vhost) = Edge::start(Duration::from_secs(30)).await;
    let post = reqwest::Method::POST;
    for (body, status, expected) in [
        (
            r#"{"title": "unterminated"#,
            StatusCode::BAD_REQUEST,
            "MALFORMED_JSON",
        ),
        ("", StatusCode::BAD_REQUEST, "MALFORMED_JSON"),
        (
            r#"{"agentId": "a\u0000b"}"#,
            StatusCode::BAD_REQUEST,
            "INVALID_CHARACTER",
        ),
        (
            r#"{"title": "x"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        ),
        (
            r#"{"agentId": 7}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        ),
    ] {
        let (got, reply) = edge.body(post.clone(), "/assign", body).await;
        assert_eq!((got, code(&reply)), (status, expected), "{body}: {reply}");
    }
    let (status, reply) = edge
        .body(post, "/assign", r#"{"agentId": "agent-1"}"#)
        .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let (status, reply) = edge
        .send(edge.client.post(format!("{}/assign", edge.base)).body("{}"))
        .await;
    assert_eq!(
        (status, code(&reply)),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE")
    );
    for optional in ["", "null", " {} "] {
        let (status, reply) = edge.body(reqwest::Method::PUT, "/process", optional).await;
        assert_eq!(status, StatusCode::OK, "{optional:?}: {reply}");
    }
    let (status, reply) = edge
        .body(reqwest::Method::PUT, "/process", "{\"x\": ")
        .await;
    assert_eq!(
        (status, code(&reply)),
        (StatusCode::BAD_REQUEST, "MALFORMED_JSON")
    );
    edge.stop().await;
}

#[tokio::test]
async fn a_request_past_its_deadline_is_answered_503_with_retry_after() {
    let (edge, _vhost) = Edge::start(Duration::from_millis(200)).await;
    let response = edge
        .client
        .get(format!("{}/slow", edge.base))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(code(&body), "DEADLINE_EXCEEDED");
    let (status, _) = edge.get("/echo/fast").await;
    assert_eq!(status, StatusCode::OK, "a quick request is untouched");
    edge.stop().await;
}

#[tokio::test]
async fn the_document_lists_what_the_edge_answers() {
    let (edge, _vhost) = Edge::start(Duration::from_secs(30)).await;
    let (status, doc) = edge.get("/api-docs/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let peek = &doc["paths"]["/admin/dead-letters/{queue}"]["get"]["responses"];
    assert!(peek.get("400").is_some(), "a bad limit is a 400: {peek}");
    assert!(peek.get("503").is_some(), "{peek}");
    assert!(doc["components"]["schemas"].get("ErrorBody").is_some());
    for bad in ["0", "501", "-1", "many"] {
        let (status, body) = edge
            .get(&format!("/admin/dead-letters/q?limit={bad}"))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "limit={bad}: {body}");
        assert_eq!(code(&body), "INVALID_QUERY");
    }
    edge.stop().await;
}
