//! Saga recovery as an operator sees it: the list of sagas by status and type, a FAILED saga
//! retried at its failed step, a saga abandoned with a reason, and a saga whose step deadline
//! passed while the service was down, recovered when it starts again. No notification-service
//! runs here, so a saga's step gets no answer unless the test publishes one (see `sagas`).

use crate::{
    harness::{self, spawn_app_with, RequestBody, TestApp, WAIT},
    sagas::{acknowledge, notification, published, publisher_for, reply, saga_reaches},
};
use complaint_service::config::Config;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use shared::{
    event::{Envelope, EventType, RetryInitiator, SagaAbandoned, SagaRetried},
    test_support::{all_pages, eventually, EventTap},
};
use std::time::Duration;
use uuid::Uuid;

/// A step fails for want of an answer after a second; the clock looks every 100 ms.
fn impatient(config: &mut Config) {
    config.saga.step_timeout = Duration::from_secs(1);
    config.saga.clock_interval = Duration::from_millis(100);
}

async fn post(app: &TestApp, path: &str, body: Option<Value>) -> harness::Reply {
    app.request(Method::POST, path, &[], body.map(RequestBody::Json))
        .await
}

async fn retry(app: &TestApp, saga_id: &str) -> harness::Reply {
    post(app, &format!("/api/sagas/{saga_id}/retry"), None).await
}

async fn abandon(app: &TestApp, saga_id: &str, reason: &str) -> harness::Reply {
    let body = json!({ "reason": reason });
    post(app, &format!("/api/sagas/{saga_id}/abandon"), Some(body)).await
}

fn id_of(saga: &Value) -> String {
    saga["sagaId"].as_str().expect("a saga id").to_owned()
}

/// The saga event of `event_type` published about `saga_id`.
async fn announced(tap: &EventTap, saga_id: &str, event_type: EventType) -> Envelope {
    eventually(&format!("{event_type} published"), WAIT, || async {
        tap.seen()
            .into_iter()
            .map(|d| d.envelope)
            .find(|e| e.aggregate_id == saga_id && e.event_type == event_type.as_str())
    })
    .await
}

/// Every saga the list shows for `query`, following `nextCursor` page by page.
async fn listed(app: &TestApp, query: &str) -> Vec<Value> {
    let path = format!("/api/sagas?{query}");
    all_pages(&path, "items", |path| app.ok_body(path)).await
}

fn ids(sagas: &[Value]) -> Vec<String> {
    sagas.iter().map(id_of).collect()
}

#[tokio::test]
async fn sagas_are_listed_newest_first_by_status_and_type_one_page_at_a_time() {
    let app = spawn_app_with(|c| {
        c.saga.step_timeout = Duration::from_secs(5);
        c.saga.clock_interval = Duration::from_millis(100);
    })
    .await;
    let tap = EventTap::bind_to(&app.vhost, shared::event::exchanges::COMPLAINTS).await;
    let notifier = publisher_for(&app, "notification-service").await;
    let mut complaints = Vec::new();
    for n in 1..=4 {
        complaints.push(app.created(n).await);
    }
    // The first is acknowledged in time; the three others fail for want of an answer.
    let created = published(&tap, &complaints[0], EventType::ComplaintCreated).await;
    saga_reaches(&app, &complaints[0], "ACKNOWLEDGEMENT", "RUNNING").await;
    let sent = reply(
        &created,
        EventType::NotificationSent,
        notification("acknowledgement", "complainant", &complaints[0]),
    );
    notifier.publish_one(&sent).await;
    let completed = saga_reaches(&app, &complaints[0], "ACKNOWLEDGEMENT", "COMPLETED").await;
    let mut failed = Vec::new();
    for id in &complaints[1..] {
        failed.push(saga_reaches(&app, id, "ACKNOWLEDGEMENT", "FAILED").await);
    }
    failed.reverse(); // newest first

    assert_eq!(
        ids(&listed(&app, "status=FAILED&limit=2").await),
        ids(&failed)
    );
    let first_page = app.get("/api/sagas?status=failed&limit=2").await;
    assert_eq!(first_page.body["items"].as_array().unwrap().len(), 2);
    assert!(first_page.body["nextCursor"].is_string());
    assert_eq!(
        ids(&listed(&app, "status=COMPLETED&type=ACKNOWLEDGEMENT").await),
        [id_of(&completed)]
    );
    assert_eq!(listed(&app, "status=RUNNING").await, Vec::<Value>::new());
    assert_eq!(listed(&app, "type=ASSIGNMENT").await, Vec::<Value>::new());
    let everything = listed(&app, "limit=1").await;
    assert_eq!(everything.len(), 4);
    assert_eq!(everything[0]["complaintId"], json!(complaints[3]));
    assert_eq!(everything[3]["complaintId"], json!(complaints[0]));
    assert_eq!(
        listed(&app, "status=FAILED,COMPLETED&type=acknowledgement&limit=3").await,
        everything
    );

    assert_eq!(
        app.get("/api/sagas?status=LOST").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.get("/api/sagas?type=REFUND").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let bad_cursor = app.get("/api/sagas?cursor=zz").await;
    assert_eq!(bad_cursor.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_cursor.code(), "INVALID_CURSOR");
    notifier.close().await;
    app.stop().await;
}

#[tokio::test]
async fn an_answer_that_came_after_the_saga_failed_completes_it_when_an_operator_retries() {
    let app = spawn_app_with(impatient).await;
    let tap = EventTap::bind_to(&app.vhost, shared::event::exchanges::COMPLAINTS).await;
    let sagas_tap = EventTap::bind_to(&app.vhost, shared::event::exchanges::SAGA).await;
    let notifier = publisher_for(&app, "notification-service").await;
    let id = app.created(1).await;
    let created = published(&tap, &id, EventType::ComplaintCreated).await;
    let failed = saga_reaches(&app, &id, "ACKNOWLEDGEMENT", "FAILED").await;
    let saga_id = id_of(&failed);
    assert_eq!(failed["failure"]["retryable"], true);

    // notification-service comes back and sends the mail: the saga has already failed.
    let sent = reply(
        &created,
        EventType::NotificationSent,
        notification("acknowledgement", "complainant", &id),
    );
    notifier.publish_one(&sent).await;
    eventually("the late answer kept", WAIT, || async {
        let saga = app.get(&format!("/api/sagas/{saga_id}")).await.body;
        (saga["lateReplies"].as_array().map(Vec::len) == Some(1)).then_some(())
    })
    .await;
    assert_eq!(
        app.get(&format!("/api/sagas/{saga_id}")).await.body["status"],
        "FAILED"
    );

    let retried = retry(&app, &saga_id).await;
    assert_eq!(retried.status, StatusCode::OK, "{:?}", retried.body);
    assert_eq!(retried.body["sagaId"], json!(saga_id), "the same saga");
    assert_eq!(retried.body["status"], "COMPLETED");
    assert_eq!(retried.body["attempt"], 2);
    assert_eq!(retried.body["steps"][0]["status"], "COMPLETED");

    let event = announced(&sagas_tap, &saga_id, EventType::SagaRetried).await;
    let data: SagaRetried = serde_json::from_value(event.event_data).expect("typed payload");
    assert_eq!(data.attempt, 2);
    assert_eq!(data.initiated_by, RetryInitiator::Operator);
    assert_eq!(data.step, "acknowledge-complainant");
    announced(&sagas_tap, &saga_id, EventType::SagaCompleted).await;

    let again = retry(&app, &saga_id).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "SAGA_NOT_RETRYABLE");
    notifier.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_retried_saga_waits_again_at_its_failed_step_and_completes_when_answered() {
    let first = spawn_app_with(impatient).await;
    let tap = EventTap::bind_to(&first.vhost, shared::event::exchanges::COMPLAINTS).await;
    let id = first.created(1).await;
    let created = published(&tap, &id, EventType::ComplaintCreated).await;
    let saga_id = id_of(&saga_reaches(&first, &id, "ACKNOWLEDGEMENT", "FAILED").await);
    let (mut config, vhost) = (first.config.clone(), first.vhost.clone());
    first.stop().await;

    // Patient enough now for the test to answer the retried step.
    config.saga.step_timeout = Duration::from_secs(60);
    let app = harness::start(config, vhost).await;
    let retried = retry(&app, &saga_id).await;
    assert_eq!(retried.status, StatusCode::OK, "{:?}", retried.body);
    assert_eq!(retried.body["status"], "RUNNING");
    assert_eq!(retried.body["attempt"], 2);
    assert_eq!(retried.body["steps"][0]["status"], "PENDING");
    assert!(retried.body.get("failure").is_none());
    let running = retry(&app, &saga_id).await;
    assert_eq!(running.status, StatusCode::CONFLICT, "only a FAILED saga");

    let notifier = publisher_for(&app, "notification-service").await;
    let sent = reply(
        &created,
        EventType::NotificationSent,
        notification("acknowledgement", "complainant", &id),
    );
    notifier.publish_one(&sent).await;
    let done = saga_reaches(&app, &id, "ACKNOWLEDGEMENT", "COMPLETED").await;
    assert_eq!(id_of(&done), saga_id);
    assert_eq!(done["attempt"], 2);
    notifier.close().await;
    app.stop().await;
}

#[tokio::test]
async fn an_abandoned_saga_is_closed_with_the_reason_the_operator_gave() {
    let app = spawn_app_with(impatient).await;
    let sagas_tap = EventTap::bind_to(&app.vhost, shared::event::exchanges::SAGA).await;
    let id = app.created(1).await;
    let saga_id = id_of(&saga_reaches(&app, &id, "ACKNOWLEDGEMENT", "FAILED").await);

    let blank = abandon(&app, &saga_id, "  ").await;
    assert_eq!(
        blank.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        blank.body
    );
    let no_body = post(&app, &format!("/api/sagas/{saga_id}/abandon"), None).await;
    assert!(no_body.status.is_client_error(), "{no_body:?}");

    let reason = "Customer reached by phone; no mail needed";
    let abandoned = abandon(&app, &saga_id, reason).await;
    assert_eq!(abandoned.status, StatusCode::OK, "{:?}", abandoned.body);
    assert_eq!(abandoned.body["status"], "ABANDONED");
    assert_eq!(abandoned.body["abandonReason"], reason);
    let shown = app.get(&format!("/api/sagas/{saga_id}")).await.body;
    assert_eq!(shown["status"], "ABANDONED");
    assert_eq!(shown["abandonReason"], reason);

    let event = announced(&sagas_tap, &saga_id, EventType::SagaAbandoned).await;
    let data: SagaAbandoned = serde_json::from_value(event.event_data).expect("typed payload");
    assert_eq!(data.reason, reason);
    assert_eq!(data.complaint_id, id);
    assert_eq!(data.step.as_deref(), Some("acknowledge-complainant"));

    let again = abandon(&app, &saga_id, "twice").await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "SAGA_CLOSED");
    let retried = retry(&app, &saga_id).await;
    assert_eq!(retried.status, StatusCode::CONFLICT);
    assert_eq!(retried.code(), "SAGA_NOT_RETRYABLE");
    assert_eq!(ids(&listed(&app, "status=ABANDONED").await), [saga_id]);
    app.stop().await;
}

#[tokio::test]
async fn retrying_or_abandoning_a_saga_that_does_not_exist_is_not_found() {
    let app = spawn_app_with(|_| {}).await;
    for saga_id in [Uuid::now_v7().to_string(), "not-a-saga".to_owned()] {
        let retried = retry(&app, &saga_id).await;
        assert_eq!(retried.status, StatusCode::NOT_FOUND, "{saga_id}");
        assert_eq!(retried.code(), "SAGA_NOT_FOUND");
        let abandoned = abandon(&app, &saga_id, "gone").await;
        assert_eq!(abandoned.status, StatusCode::NOT_FOUND, "{saga_id}");
        assert_eq!(abandoned.code(), "SAGA_NOT_FOUND");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_saga_whose_step_deadline_passed_while_the_service_was_down_is_resumed_at_start_up() {
    // The first instance never looks at deadlines after its start: its step deadline passes
    // while it is stopped.
    let first = spawn_app_with(|c| {
        c.saga.step_timeout = Duration::from_millis(500);
        c.saga.clock_interval = Duration::from_secs(3600);
    })
    .await;
    let tap = EventTap::bind_to(&first.vhost, shared::event::exchanges::COMPLAINTS).await;
    let sagas_tap = EventTap::bind_to(&first.vhost, shared::event::exchanges::SAGA).await;
    let id = first.created(1).await;
    let created = published(&tap, &id, EventType::ComplaintCreated).await;
    let stuck = saga_reaches(&first, &id, "ACKNOWLEDGEMENT", "RUNNING").await;
    let saga_id = id_of(&stuck);
    let (mut config, vhost) = (first.config.clone(), first.vhost.clone());
    first.stop().await;
    tokio::time::sleep(Duration::from_millis(700)).await;

    // Back, with one automatic resume allowed and the clock's usual pace.
    config.saga.step_timeout = Duration::from_secs(60);
    config.saga.clock_interval = Duration::from_millis(100);
    config.saga.auto_resumes = 1;
    let app = harness::start(config, vhost).await;
    let resumed = eventually("the stuck saga resumed", WAIT, || async {
        let saga = app.get(&format!("/api/sagas/{saga_id}")).await.body;
        (saga["attempt"] == 2).then_some(saga)
    })
    .await;
    assert_eq!(resumed["status"], "RUNNING");
    let deadline: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(resumed["deadline"].clone()).unwrap();
    assert!(deadline > chrono::Utc::now(), "a new deadline: {deadline}");
    let event = announced(&sagas_tap, &saga_id, EventType::SagaRetried).await;
    let data: SagaRetried = serde_json::from_value(event.event_data).expect("typed payload");
    assert_eq!(data.initiated_by, RetryInitiator::Recovery);
    assert!(
        data.previous_failure.starts_with("no answer by"),
        "{data:?}"
    );

    let notifier = publisher_for(&app, "notification-service").await;
    acknowledge(&app, &notifier, &created, &id).await;
    notifier.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_saga_stuck_across_a_restart_without_resumes_left_fails_for_a_person_to_see() {
    let first = spawn_app_with(|c| {
        c.saga.step_timeout = Duration::from_millis(500);
        c.saga.clock_interval = Duration::from_secs(3600);
    })
    .await;
    let sagas_tap = EventTap::bind_to(&first.vhost, shared::event::exchanges::SAGA).await;
    let id = first.created(1).await;
    let saga_id = id_of(&saga_reaches(&first, &id, "ACKNOWLEDGEMENT", "RUNNING").await);
    let (mut config, vhost) = (first.config.clone(), first.vhost.clone());
    first.stop().await;
    tokio::time::sleep(Duration::from_millis(700)).await;

    config.saga.clock_interval = Duration::from_millis(100);
    let app = harness::start(config, vhost).await;
    let failed = saga_reaches(&app, &id, "ACKNOWLEDGEMENT", "FAILED").await;
    assert_eq!(id_of(&failed), saga_id);
    assert_eq!(failed["failure"]["retryable"], true);
    announced(&sagas_tap, &saga_id, EventType::SagaFailed).await;
    assert_eq!(ids(&listed(&app, "status=FAILED").await), [saga_id]);
    app.stop().await;
}

#[tokio::test]
async fn the_openapi_document_describes_the_saga_recovery_routes() {
    let app = spawn_app_with(|_| {}).await;
    let doc = app.get("/api-docs/openapi.json").await.body;
    let paths = doc["paths"].as_object().expect("paths");
    for (path, method) in [
        ("/api/sagas", "get"),
        ("/api/sagas/{sagaId}/retry", "post"),
        ("/api/sagas/{sagaId}/abandon", "post"),
    ] {
        assert!(paths[path][method].is_object(), "{method} {path}");
    }
    let parameters = doc["paths"]["/api/sagas"]["get"]["parameters"]
        .as_array()
        .expect("parameters");
    for name in ["status", "type", "cursor", "limit"] {
        assert!(
            parameters.iter().any(|p| p["name"] == name),
            "parameter {name}"
        );
    }
    let retry_answers = &doc["paths"]["/api/sagas/{sagaId}/retry"]["post"]["responses"];
    for status in ["200", "404", "409"] {
        assert!(retry_answers[status].is_object(), "retry answers {status}");
    }
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for schema in ["SagaPage", "AbandonRequest", "Saga", "Failure"] {
        assert!(schemas.contains_key(schema), "schema {schema}");
    }
    let statuses = &schemas["SagaStatus"]["enum"];
    assert!(statuses
        .as_array()
        .expect("an enum")
        .contains(&json!("ABANDONED")));
    app.stop().await;
}
