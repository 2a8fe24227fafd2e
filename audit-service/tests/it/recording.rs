//! Every event of every exchange is recorded, once, whatever the broker redelivers.

use crate::{
    events::{correlation, event, id, ids},
    harness::spawn_app,
};
use audit_service::store::Store;
use chrono::Utc;
use shared::event::{exchanges, EventType};
use std::collections::HashSet;

#[tokio::test]
async fn every_event_published_to_any_exchange_is_in_the_trail_exactly_once() {
    let app = spawn_app().await;
    let corr = correlation();
    // One event of every type of the catalogue, so every domain exchange carries some…
    let known: Vec<_> = EventType::ALL
        .iter()
        .enumerate()
        .map(|(n, &t)| event(t, &format!("aggregate-{n}"), &corr).build())
        .collect();
    // …and one of a type this build does not know, published the way its publisher would.
    let unknown = event(EventType::ComplaintCreated, "aggregate-x", &corr).build();
    let unknown = shared::event::Envelope {
        event_type: "COMPLAINT_ARCHIVED".into(),
        ..unknown
    };
    app.publish(&known).await;
    app.publish_to(exchanges::COMPLAINTS, "complaint.archived", &unknown)
        .await;
    let total = known.len() + 1;
    let recorded = app.recorded(&corr, total).await;

    // The broker delivers some of them again (a redelivery after a lost ack looks the same).
    app.publish(&known[..10]).await;
    app.publish_to(exchanges::COMPLAINTS, "complaint.archived", &unknown)
        .await;
    let sentinel = event(EventType::SagaCompleted, "sentinel", &corr).build();
    app.publish(std::slice::from_ref(&sentinel)).await;
    // The queue is FIFO: once the sentinel is in, the duplicates before it were handled.
    let after = app.recorded(&corr, total + 1).await;

    let published: HashSet<String> = known.iter().chain([&unknown]).map(id).collect();
    assert_eq!(recorded.len(), total);
    assert_eq!(
        ids(&recorded).into_iter().collect::<HashSet<_>>(),
        published
    );
    assert_eq!(after.len(), total + 1, "no event is recorded twice");
    assert_eq!(ids(&after)[0], id(&sentinel), "latest first");
    let types: HashSet<&str> = after
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert!(types.contains("COMPLAINT_ARCHIVED"));
    // Monitoring episodes and graded errors are in the trail like any other event.
    assert!(types.contains("MONITORING_CIRCUIT_OPENED"));
    assert!(types.contains("MONITORING_SERVICE_DEGRADED"));
    assert!(types.contains("ERROR_MANUAL_INTERVENTION_REQUIRED"));
    assert_eq!(types.len(), EventType::ALL.len() + 1);

    let verification = app.verify().await;
    assert_eq!(verification["valid"], true, "{verification}");
    assert_eq!(verification["checked"], total as u64 + 1);
    app.stop().await;
}

#[tokio::test]
async fn an_entry_keeps_who_what_where_and_why_of_its_event() {
    let app = spawn_app().await;
    let corr = correlation();
    let cause = event(EventType::ComplaintCreated, "c-1", &corr).build();
    let assigned = event(EventType::ComplaintAssigned, "c-1", &corr)
        .data(serde_json::json!({ "agentId": "agent-7" }))
        .by("supervisor-3")
        .version(2)
        .caused_by(&cause)
        .at(crate::events::at(1_500))
        .build();
    app.publish(&[cause.clone(), assigned.clone()]).await;
    app.recorded(&corr, 2).await;

    let trail = app.trail("c-1").await;
    let entry = &trail[1];
    assert_eq!(entry["eventId"], id(&assigned));
    assert_eq!(entry["eventType"], "COMPLAINT_ASSIGNED");
    assert_eq!(entry["aggregateType"], "Complaint");
    assert_eq!(entry["aggregateId"], "c-1");
    assert_eq!(entry["aggregateVersion"], 2);
    assert_eq!(entry["actor"], "supervisor-3");
    assert_eq!(entry["service"], "complaint-service");
    assert_eq!(entry["correlationId"], corr.as_str());
    assert_eq!(entry["causationId"], id(&cause));
    assert_eq!(entry["timestamp"], "2024-05-01T10:00:01.500Z");
    assert_eq!(
        entry["payload"],
        serde_json::json!({ "agentId": "agent-7" })
    );
    assert_eq!(entry["compensated"], false);
    assert_eq!(entry["contentHash"].as_str().unwrap().len(), 64);
    assert_eq!(entry["chainHash"].as_str().unwrap().len(), 64);
    assert!(entry["recordedAt"].as_str().is_some());
    app.stop().await;
}

#[tokio::test]
async fn concurrent_writers_never_fork_the_chain() {
    // Two writers (as two instances would be) append to the same chain at once.
    let app = spawn_app().await;
    let store = Store::new(app.pool.clone());
    let corr = correlation();
    let writer = |n: usize| {
        let store = store.clone();
        let corr = corr.clone();
        tokio::spawn(async move {
            for batch in 0..20 {
                let events: Vec<_> = (0..10)
                    .map(|i| {
                        event(
                            EventType::NotificationSent,
                            &format!("w{n}-{batch}-{i}"),
                            &corr,
                        )
                        .build()
                    })
                    .collect();
                store.record(&events, Utc::now()).await.expect("recorded");
            }
        })
    };
    let (a, b) = tokio::join!(writer(1), writer(2));
    a.unwrap();
    b.unwrap();

    let verification = app.verify().await;
    assert_eq!(verification["valid"], true, "{verification}");
    assert_eq!(verification["checked"], 400);
    app.stop().await;
}

#[tokio::test]
async fn an_event_postgres_cannot_store_is_dead_lettered_and_the_rest_of_its_batch_recorded() {
    let app = spawn_app().await;
    let corr = correlation();
    // JSONB cannot hold a NUL character in a string: no retry will ever store this one.
    let poison = event(EventType::NotificationFailed, "n-1", &corr)
        .data(serde_json::json!({ "reason": "bad\u{0}byte" }))
        .build();
    let before = event(EventType::ComplaintCreated, "c-1", &corr).build();
    let after = event(EventType::ComplaintAssigned, "c-1", &corr).build();
    app.publish(&[before.clone(), poison.clone(), after.clone()])
        .await;

    // The others are recorded, and so is the alarm raised for the dead letter.
    let recorded = app.recorded(&corr, 3).await;
    assert_eq!(ids(&recorded[1..]), [id(&after), id(&before)]);
    let alarm = &recorded[0];
    assert_eq!(alarm["eventType"], "ERROR_DEAD_LETTER_QUEUED");
    assert_eq!(alarm["causationId"], id(&poison));
    assert_eq!(alarm["payload"]["queue"], "audit-service.all-events");
    // Graded like every error event: a message no retry can store is a validation failure.
    assert_eq!(alarm["payload"]["severity"], "LOW");
    assert_eq!(alarm["payload"]["kind"], "VALIDATION");
    assert_eq!(alarm["payload"]["service"], "audit-service");
    assert_eq!(alarm["payload"]["retryable"], false);
    assert_eq!(alarm["payload"]["failingMessage"]["eventId"], id(&poison));
    let dlq = format!("api/queues/{}/audit-service.all-events.dlq", app.vhost.name);
    shared::test_support::eventually("the poison in the DLQ", crate::harness::WAIT, || async {
        let queue = app.vhost.management_get(&dlq).await;
        (queue["messages"].as_u64() == Some(1)).then_some(())
    })
    .await;
    assert_eq!(app.verify().await["valid"], true);
    app.stop().await;
}
