//! What auditors ask: searches, the latest events, trails, pages; and the 400s they get for
//! asking wrong.

use crate::{
    events::{at, correlation, event, id, ids},
    harness::{spawn_app, TestApp},
};
use audit_service::cursor::{Cursor, Keyset};
use reqwest::StatusCode;
use serde_json::json;
use shared::event::{Envelope, EventType};

/// A small, varied trail; returns its events in publish order.
async fn app_with_varied_events() -> (TestApp, String, Vec<Envelope>) {
    let app = spawn_app().await;
    let corr = correlation();
    let events = vec![
        event(EventType::ComplaintCreated, "c-1", &corr)
            .data(json!({ "title": "Invoice charged TWICE", "discount": "50% off" }))
            .by("customer-1")
            .at(at(0))
            .build(),
        event(EventType::ComplaintAssigned, "c-1", &corr)
            .data(json!({ "agentId": "agent-7" }))
            .by("supervisor-1")
            .at(at(60_000))
            .version(2)
            .build(),
        event(EventType::NotificationSent, "n-1", &corr)
            .data(json!({ "channel": "email", "to": "agent-7" }))
            .at(at(61_000))
            .build(),
        event(EventType::ComplaintAssigned, "c-2", &corr)
            .data(json!({ "agentId": "agent-8" }))
            .by("supervisor-1")
            .at(at(120_000))
            .build(),
        event(EventType::SagaStarted, "s-1", &corr)
            .at(at(180_000))
            .build(),
    ];
    app.publish(&events).await;
    app.recorded(&corr, events.len()).await;
    (app, corr, events)
}

#[tokio::test]
async fn search_filters_combine() {
    let (app, corr, events) = app_with_varied_events().await;
    let found = |filter: &'static str| {
        let app = &app;
        let corr = corr.clone();
        async move {
            ids(&app
                .search_all(&format!("&correlationId={corr}{filter}"))
                .await)
        }
    };
    let ids_of = |indexes: &[usize]| -> Vec<String> {
        indexes.iter().rev().map(|&i| id(&events[i])).collect() // latest first
    };

    assert_eq!(
        found("&eventType=COMPLAINT_ASSIGNED").await,
        ids_of(&[1, 3])
    );
    assert_eq!(found("&actor=supervisor-1").await, ids_of(&[1, 3]));
    assert_eq!(found("&service=notification-service").await, ids_of(&[2]));
    assert_eq!(found("&aggregateType=Complaint").await, ids_of(&[0, 1, 3]));
    assert_eq!(found("&aggregateId=c-1").await, ids_of(&[0, 1]));
    assert_eq!(found("&q=twice").await, ids_of(&[0]), "case-insensitive");
    assert_eq!(found("&q=50%25").await, ids_of(&[0]), "% is literal");
    assert_eq!(found("&q=agent-7").await, ids_of(&[1, 2]));
    assert_eq!(
        found("&from=2024-05-01T10:01:00Z&to=2024-05-01T10:03:00Z").await,
        ids_of(&[1, 2, 3]),
        "from inclusive, to exclusive"
    );
    assert_eq!(
        found("&eventType=COMPLAINT_ASSIGNED&actor=supervisor-1&from=2024-05-01T10:02:00%2B00:00")
            .await,
        ids_of(&[3])
    );
    assert_eq!(
        found("&eventType=COMPLAINT_CLOSED").await,
        Vec::<String>::new()
    );
    app.stop().await;
}

#[tokio::test]
async fn pages_follow_the_cursor_latest_first_without_gaps_or_repeats() {
    let (app, _, events) = app_with_varied_events().await;
    let mut seen = Vec::new();
    let mut path = "/api/audit/events?limit=2".to_owned();
    loop {
        let page = app.ok(&path).await;
        let entries = page["entries"].as_array().unwrap();
        assert!(entries.len() <= 2);
        seen.extend(ids(entries));
        match page["nextCursor"].as_str() {
            Some(cursor) => path = format!("/api/audit/events?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let expected: Vec<String> = events.iter().rev().map(id).collect();
    assert_eq!(seen, expected);
    app.stop().await;
}

#[tokio::test]
async fn a_trail_is_chronological_whatever_the_order_of_arrival() {
    let app = spawn_app().await;
    let corr = correlation();
    let late = event(EventType::ComplaintResolved, "c-1", &corr)
        .at(at(3_000))
        .version(3)
        .build();
    let early = event(EventType::ComplaintCreated, "c-1", &corr)
        .at(at(0))
        .build();
    let middle = event(EventType::ComplaintAssigned, "c-1", &corr)
        .at(at(1_000))
        .version(2)
        .build();
    app.publish(&[late.clone(), early.clone(), middle.clone()])
        .await;
    app.recorded(&corr, 3).await;

    let trail = app.ok("/api/audit/trail/c-1").await;
    assert_eq!(trail["aggregateId"], "c-1");
    assert_eq!(
        ids(trail["entries"].as_array().unwrap()),
        [&early, &middle, &late].map(id)
    );
    assert_eq!(trail["nextCursor"], serde_json::Value::Null);

    let first = app.ok("/api/audit/trail/c-1?limit=2").await;
    assert_eq!(
        ids(first["entries"].as_array().unwrap()),
        [&early, &middle].map(id)
    );
    let cursor = first["nextCursor"].as_str().expect("a next page");
    let second = app
        .ok(&format!("/api/audit/trail/c-1?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(ids(second["entries"].as_array().unwrap()), [id(&late)]);
    assert_eq!(second["nextCursor"], serde_json::Value::Null);
    app.stop().await;
}

#[tokio::test]
async fn bad_query_parameters_get_400_with_a_clear_message() {
    let app = spawn_app().await;
    let sequence_cursor = Cursor::Sequence(5).encode();
    let cases = [
        (
            "/api/audit/search?limit=0",
            "INVALID_QUERY",
            "limit: must be a whole number from 1 to 200",
        ),
        (
            "/api/audit/search?limit=201",
            "INVALID_QUERY",
            "limit: must be a whole number from 1 to 200",
        ),
        (
            "/api/audit/events?limit=ten",
            "INVALID_QUERY",
            "limit: must be a whole number from 1 to 200",
        ),
        (
            "/api/audit/search?from=yesterday",
            "INVALID_QUERY",
            "from: expected an RFC 3339 timestamp",
        ),
        (
            "/api/audit/search?to=2024-05-01",
            "INVALID_QUERY",
            "to: expected an RFC 3339 timestamp",
        ),
        (
            "/api/audit/search?eventType=complaint.created",
            "INVALID_QUERY",
            "eventType: expected an event type name",
        ),
        (
            "/api/audit/search?actor=",
            "INVALID_QUERY",
            "actor: must not be empty",
        ),
        (
            "/api/audit/search?colour=blue",
            "INVALID_QUERY",
            "unknown field `colour`",
        ),
        (
            "/api/audit/events?eventType=X",
            "INVALID_QUERY",
            "unknown field `eventType`",
        ),
        (
            "/api/audit/verify?full=true",
            "INVALID_QUERY",
            "unknown field `full`",
        ),
        (
            "/api/audit/correlation/c?depth=1",
            "INVALID_QUERY",
            "unknown field `depth`",
        ),
        (
            "/api/audit/events?cursor=not-a-cursor",
            "INVALID_CURSOR",
            "cursor:",
        ),
        (
            &format!("/api/audit/trail/c-1?cursor={sequence_cursor}"),
            "INVALID_CURSOR",
            "cursor:",
        ),
    ];
    for (path, code, message) in cases {
        let reply = app.get(path).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{path}: {:?}",
            reply.body
        );
        assert_eq!(reply.code(), code, "{path}");
        assert!(
            reply.message().contains(message),
            "{path}: {:?} does not say {message:?}",
            reply.message()
        );
        // Every service names the parameter to fix under the same key.
        if let Some(field) = message.split(':').next().filter(|f| !f.contains(' ')) {
            assert_eq!(reply.body["error"]["details"]["field"], field, "{path}");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let app = spawn_app().await;
    let document = app.ok("/api-docs/openapi.json").await;
    for path in [
        "/api/audit/trail/{aggregateId}",
        "/api/audit/search",
        "/api/audit/events",
        "/api/audit/correlation/{correlationId}",
        "/api/audit/verify",
    ] {
        assert!(
            document["paths"][path]["get"].is_object(),
            "{path} is not documented"
        );
    }
    let search_params: Vec<&str> = document["paths"]["/api/audit/search"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in [
        "eventType",
        "actor",
        "correlationId",
        "aggregateType",
        "service",
        "from",
        "to",
        "q",
        "cursor",
        "limit",
    ] {
        assert!(
            search_params.contains(&name),
            "search parameter {name} is not documented"
        );
    }
    assert!(document["components"]["schemas"]["Verification"].is_object());
    app.stop().await;
}

/// Issue 10: a NUL in a parameter reached PostgreSQL and answered 500.
#[tokio::test]
async fn control_characters_in_parameters_are_400s_never_500s() {
    let app = spawn_app().await;
    for path in [
        "/api/audit/trail/%00",
        "/api/audit/correlation/%00",
        "/api/audit/search?service=%00",
        "/api/audit/search?q=%00",
        "/api/audit/search?actor=%00",
        "/api/audit/search?q=a%1Bb",
    ] {
        let reply = app.get(path).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(reply.code(), "INVALID_CHARACTER", "{path}");
    }
    app.stop().await;
}
