//! One correlation id, followed across services: causes before effects.

use crate::{
    events::{at, correlation, event, id, ids},
    harness::spawn_app,
};
use reqwest::StatusCode;
use shared::event::EventType;

#[tokio::test]
async fn a_saga_correlation_id_returns_all_its_entries_across_services_in_causal_order() {
    let app = spawn_app().await;
    let saga = correlation();
    // The acknowledgement saga. The notification service's clock runs two seconds behind,
    // and the event store's one second: their timestamps alone would put effects before causes.
    let created = event(EventType::ComplaintCreated, "c-1", &saga)
        .caused_by_command("command-1")
        .at(at(0))
        .build();
    let started = event(EventType::SagaStarted, "saga-1", &saga)
        .caused_by(&created)
        .at(at(1))
        .build();
    let sent = event(EventType::NotificationSent, "n-1", &saga)
        .caused_by(&created)
        .at(at(-2_000))
        .build();
    let dead_lettered = event(EventType::ErrorDeadLetterQueued, "q.dlq", &saga)
        .published_by("event-store-service")
        .caused_by(&sent)
        .at(at(-1_000))
        .build();
    let step = event(EventType::SagaStepCompleted, "saga-1", &saga)
        .caused_by(&sent)
        .at(at(500))
        .version(2)
        .build();
    let completed = event(EventType::SagaCompleted, "saga-1", &saga)
        .caused_by(&step)
        .at(at(600))
        .version(3)
        .build();
    let elsewhere = event(EventType::ComplaintCreated, "c-2", &correlation()).build();
    // They reach the trail in the reverse order.
    app.publish(&[
        completed.clone(),
        step.clone(),
        elsewhere,
        dead_lettered.clone(),
        sent.clone(),
        started.clone(),
        created.clone(),
    ])
    .await;
    app.recorded(&saga, 6).await;

    let chain = app.ok(&format!("/api/audit/correlation/{saga}")).await;
    let entries = chain["entries"].as_array().unwrap();
    assert_eq!(chain["correlationId"], saga.as_str());
    assert_eq!(chain["truncated"], false);
    assert_eq!(
        ids(entries),
        [&created, &sent, &dead_lettered, &started, &step, &completed].map(id),
        "causes first, then time order"
    );
    let depths: Vec<u64> = entries
        .iter()
        .map(|e| e["depth"].as_u64().unwrap())
        .collect();
    assert_eq!(depths, [0, 1, 2, 1, 2, 3]);
    let parents: Vec<Option<&str>> = entries
        .iter()
        .map(|e| e["parentEventId"].as_str())
        .collect();
    assert_eq!(
        parents,
        [
            None,
            Some(id(&created).as_str()),
            Some(id(&sent).as_str()),
            Some(id(&created).as_str()),
            Some(id(&sent).as_str()),
            Some(id(&step).as_str()),
        ]
    );
    let services: Vec<&str> = entries
        .iter()
        .map(|e| e["service"].as_str().unwrap())
        .collect();
    assert!(services.contains(&"notification-service"));
    assert!(services.contains(&"event-store-service"));
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_correlation_id_is_not_found() {
    let app = spawn_app().await;
    let reply = app.get("/api/audit/correlation/nobody-sent-this").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.code(), "NOT_FOUND");
    let reply = app.get("/api/audit/trail/no-such-aggregate").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    app.stop().await;
}
