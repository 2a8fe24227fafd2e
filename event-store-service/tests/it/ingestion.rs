//! Every event published to the exchanges is stored exactly once.

use crate::{
    events::{created_and_assigned, full_lifecycle, mixed},
    harness::{spawn_app, start, Servers, WAIT},
};
use serde_json::json;
use shared::{
    event::{exchanges, Envelope, EventType, Metadata},
    test_support::{eventually, metrics_grown, metrics_with, Scrape},
};
use std::collections::HashSet;

fn ids(events: &[Envelope]) -> HashSet<String> {
    events.iter().map(|e| e.event_id.to_string()).collect()
}

#[tokio::test]
async fn events_published_to_every_exchange_are_stored_once_each() {
    let app = spawn_app().await;
    let complaint = full_lifecycle("c-everything");
    let mut published = complaint.envelopes.clone();
    published.extend(mixed(25));
    app.publisher().await.publish(&published).await;

    app.client.wait_for_count(published.len() as u64).await;
    let log = app.client.whole_log(10).await;
    let stored: Vec<String> = log
        .iter()
        .map(|e| e.envelope.event_id.to_string())
        .collect();
    assert_eq!(stored.len(), published.len());
    assert_eq!(
        stored.iter().cloned().collect::<HashSet<_>>(),
        ids(&published)
    );
    let stats = app.client.statistics().await;
    assert_eq!(stats.total_events, published.len() as u64);
    assert_eq!(stats.by_aggregate_type["Complaint"], 8);
    assert_eq!(stats.by_domain_stream["complaints-stream"], 8);
    assert_eq!(stats.by_event_type["COMPLAINT_ASSIGNED"], 2);
}

#[tokio::test]
async fn a_message_delivered_twice_is_stored_once() {
    let app = spawn_app().await;
    let publisher = app.publisher().await;
    let events = mixed(3);
    // The same envelope twice in one go (likely one batch), then again on its own.
    publisher
        .publish(&[events[0].clone(), events[0].clone(), events[1].clone()])
        .await;
    app.client.wait_for_count(2).await;
    publisher
        .publish(&[events[0].clone(), events[1].clone()])
        .await;
    // The last event is published after the copies: once it is stored, they were handled.
    publisher.publish(&events[2..]).await;
    app.client.wait_for_count(3).await;

    let log = app.client.whole_log(100).await;
    assert_eq!(log.len(), 3);
    assert_eq!(
        log.iter()
            .map(|e| e.envelope.event_id.to_string())
            .collect::<HashSet<_>>(),
        ids(&events)
    );
    let dead = app
        .client
        .get("/admin/dead-letters/event-store-service.all-events")
        .await;
    assert_eq!(dead.body, json!([]), "a redelivery is no failure");
}

#[tokio::test]
async fn an_event_of_a_type_outside_the_catalogue_is_stored_too() {
    let app = spawn_app().await;
    let archived = Envelope {
        event_type: "COMPLAINT_ARCHIVED".into(),
        ..created_and_assigned("c-archived").envelopes[0].clone()
    };
    let archived = Envelope {
        event_id: uuid::Uuid::now_v7(),
        metadata: archived.metadata.clone().with_version(3),
        ..archived
    };
    app.publisher()
        .await
        .publish_to(exchanges::COMPLAINTS, "complaint.archived", &archived)
        .await;

    app.client.wait_for_count(1).await;
    let page = app.client.all("eventType=COMPLAINT_ARCHIVED").await;
    assert_eq!(page.events.len(), 1);
    assert_eq!(page.events[0].envelope, archived);
    let stats = app.client.statistics().await;
    assert_eq!(stats.by_domain_stream["complaints-stream"], 1);
}

#[tokio::test]
async fn a_second_event_for_a_taken_complaint_version_is_dead_lettered_with_the_reason() {
    let app = spawn_app().await;
    let stream = created_and_assigned("c-fork");
    let publisher = app.publisher().await;
    publisher.publish(&stream.envelopes).await;
    app.client.wait_for_count(2).await;
    // Another event claiming version 2 of the same complaint: a fork.
    let fork = Envelope {
        event_id: uuid::Uuid::now_v7(),
        ..stream.envelopes[1].clone()
    };
    publisher.publish(std::slice::from_ref(&fork)).await;

    let dead = eventually("the fork in the DLQ", WAIT, || async {
        let reply = app
            .client
            .get("/admin/dead-letters/event-store-service.all-events")
            .await;
        let list = reply.body.as_array().cloned().unwrap_or_default();
        (!list.is_empty()).then_some(list)
    })
    .await;
    let reason = dead[0].to_string();
    assert!(reason.contains("version conflict"), "{reason}");
    assert!(
        reason.contains(&stream.envelopes[1].event_id.to_string()),
        "names the holder: {reason}"
    );
    let kept = app.client.stream(&stream.stream_id(), "").await;
    assert_eq!(
        kept.events
            .iter()
            .map(|e| e.envelope.event_id)
            .collect::<Vec<_>>(),
        [stream.envelopes[0].event_id, stream.envelopes[1].event_id]
    );
    // The dead-letter alarm the consumer raised is in the log too: it logs everything.
    app.client.wait_for_count(3).await;
    let alarm = app.client.all("eventType=ERROR_DEAD_LETTER_QUEUED").await;
    assert_eq!(alarm.events.len(), 1);
}

#[tokio::test]
async fn versions_repeat_freely_in_streams_whose_producers_do_not_keep_them() {
    let app = spawn_app().await;
    // Every dead-letter alarm of a queue is "version 1" of the same aggregate.
    let alarms: Vec<Envelope> = (0..3)
        .map(|i| {
            Envelope::new(
                EventType::ErrorDeadLetterQueued,
                "some-service.work.dlq",
                "DeadLetterQueue",
                json!({ "n": i }),
                Metadata::new("some-service", "c".into(), chrono::Utc::now()),
            )
        })
        .collect();
    app.publisher().await.publish(&alarms).await;
    app.client.wait_for_count(3).await;
    let page = app
        .client
        .stream("DeadLetterQueue-some-service.work.dlq", "")
        .await;
    assert_eq!(page.events.len(), 3);
}

#[tokio::test]
async fn a_service_stopped_while_draining_a_backlog_resumes_without_loss_or_duplicate() {
    let servers = Servers::fresh().await;
    let publisher = servers.publisher().await;
    let backlog = mixed(3000);
    publisher.publish(&backlog).await;

    let app = start(servers).await;
    eventually("a part of the backlog stored", WAIT, || async {
        let page = app.client.all("limit=1").await;
        (!page.events.is_empty()).then_some(())
    })
    .await;
    let servers = app.stop().await;
    let app = start(servers).await;

    app.client.wait_for_count_within(3000, WAIT * 4).await;
    let log = app.client.whole_log(1000).await;
    let positions: Vec<i64> = log.iter().map(|e| e.position).collect();
    assert_eq!(
        positions,
        (1..=3000).collect::<Vec<_>>(),
        "contiguous positions"
    );
    let stored: HashSet<String> = log
        .iter()
        .map(|e| e.envelope.event_id.to_string())
        .collect();
    assert_eq!(stored, ids(&backlog));
}

#[tokio::test]
async fn metrics_count_what_ingestion_did() {
    let app = spawn_app().await;
    let before = Scrape::take(&app.client.address).await;
    app.publisher().await.publish(&mixed(2)).await;
    app.client.wait_for_count(2).await;
    let _ = app.client.get("/api/events/all?limit=0").await;
    metrics_grown(
        &app.client.address,
        &before,
        &[
            (
                "event_store_operations_total{operation=\"ingest\",outcome=\"stored\"}",
                2.0,
            ),
            (
                "event_store_operations_total{operation=\"read_all\",outcome=\"rejected\"}",
                1.0,
            ),
        ],
    )
    .await;
    metrics_with(
        &app.client.address,
        &[
            "event_store_event_count",
            "event_store_ingestion_lag_seconds",
            "event_store_batch_size",
        ],
    )
    .await;
}

#[tokio::test]
async fn monitoring_events_are_stored_in_the_monitoring_stream() {
    let app = spawn_app().await;
    let episodes: Vec<Envelope> = [
        EventType::MonitoringConsumerLagHigh,
        EventType::MonitoringDlqGrowing,
        EventType::MonitoringCircuitOpened,
        EventType::MonitoringCircuitClosed,
        EventType::MonitoringServiceDegraded,
    ]
    .into_iter()
    .map(|t| {
        Envelope::new(
            t,
            "notification-service/smtp",
            "Circuit",
            json!({ "service": "notification-service" }),
            Metadata::new("notification-service", "m".into(), chrono::Utc::now()),
        )
    })
    .collect();
    // Published as their raisers do: on monitoring.events.
    assert!(episodes
        .iter()
        .all(|e| e.exchange() == Some(exchanges::MONITORING)));
    app.publisher().await.publish(&episodes).await;

    app.client.wait_for_count(5).await;
    let stats = app.client.statistics().await;
    assert_eq!(stats.by_domain_stream["monitoring-stream"], 5);
    let opened = app.client.all("eventType=MONITORING_CIRCUIT_OPENED").await;
    assert_eq!(opened.events.len(), 1);
    // And mirrored to their Redis stream.
    app.servers.wait_for_mirror(5).await;
    let mut redis = app.servers.redis().await;
    let length: u64 = redis::cmd("XLEN")
        .arg(app.servers.redis_key(shared::event::streams::MONITORING))
        .query_async(&mut redis)
        .await
        .expect("XLEN");
    assert_eq!(length, 5);
}
