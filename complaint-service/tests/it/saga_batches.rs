//! The saga keeper under a backlog. The deliveries waiting when it starts are handed over in
//! batches, each kept in one transaction: effects must still happen once each, one
//! complaint's events must still apply in order, and an event that fails must go its own way
//! (retried, then dead-lettered) without taking the rest of its batch with it.

use crate::{
    harness::{spawn_app_with, start, WAIT},
    sagas::{notification, published, publisher_for, reply, saga_reaches},
};
use chrono::Utc;
use complaint_service::saga;
use serde_json::{json, Value};
use shared::{
    event::{Envelope, EventType, Metadata},
    test_support::{eventually, EventTap},
};
use uuid::Uuid;

/// A complaint event as complaint-service would publish it, for a complaint the test made up.
fn complaint_event(id: Uuid, version: i64, event_type: EventType, data: Value) -> Envelope {
    Envelope::new(
        event_type,
        id.to_string(),
        "Complaint",
        data,
        Metadata::new("complaint-service", format!("corr-{id}"), Utc::now()).with_version(version),
    )
}

fn created_data(n: usize) -> Value {
    json!({
        "title": format!("Parcel {n} never arrived"), "description": "Tracking stopped.",
        "category": "delivery", "priority": "LOW",
        "slaDeadline": (Utc::now() + chrono::Duration::days(7)).to_rfc3339(),
        "customer": { "id": format!("c-{n}"), "name": "Ada", "email": "ada@example.com" }
    })
}

#[tokio::test]
async fn a_backlog_is_kept_in_order_each_effect_once_and_a_failing_event_alone_is_dead_lettered() {
    let app = spawn_app_with(|_| {}).await;
    let complaints = EventTap::bind_to(&app.vhost, shared::event::exchanges::COMPLAINTS).await;
    let sagas = EventTap::bind_to(&app.vhost, shared::event::exchanges::SAGA).await;
    // The backlog mixes complaint events and notification replies in one order, so one
    // publisher plays both services: a test user with every permission, as neither service's
    // own broker user may publish the other's events.
    let notifier = publisher_for(&app, "test-backlog-publisher").await;
    let mut acknowledged = Vec::new();
    for n in 0..20 {
        let id = app.created(100 + n).await;
        let created = published(&complaints, &id, EventType::ComplaintCreated).await;
        saga_reaches(&app, &id, "ACKNOWLEDGEMENT", "RUNNING").await;
        acknowledged.push((id, created));
    }
    let (config, vhost) = (app.config.clone(), app.vhost.clone());
    app.stop().await;

    // While the service is down a backlog builds up: every acknowledgement reported sent
    // twice; complaints of which the keeper hears the creation and then the resolution; and,
    // in the middle, a reply that no saga will ever wait for.
    let mut backlog = Vec::new();
    for (id, created) in &acknowledged {
        let sent = reply(
            created,
            EventType::NotificationSent,
            notification("acknowledgement", "complainant", id),
        );
        backlog.push(sent.clone());
        backlog.push(sent);
    }
    let resolved: Vec<Uuid> = (0..10).map(|_| Uuid::now_v7()).collect();
    for (n, id) in resolved.iter().enumerate() {
        backlog.push(complaint_event(
            *id,
            1,
            EventType::ComplaintCreated,
            created_data(n),
        ));
        backlog.push(complaint_event(
            *id,
            2,
            EventType::ComplaintResolved,
            json!({ "resolution": "Refunded." }),
        ));
    }
    let unanswerable = complaint_event(Uuid::now_v7(), 1, EventType::ComplaintCreated, json!({}));
    let stray = reply(
        &unanswerable,
        EventType::NotificationSent,
        notification("acknowledgement", "complainant", &unanswerable.aggregate_id),
    );
    backlog.insert(backlog.len() / 2, stray.clone());
    notifier.publish(&backlog).await;

    let app = start(config, vhost).await;
    // The stray reply alone is retried and then dead-lettered; by then the keeper has been
    // through the whole backlog (the retries queue behind it).
    let dead_letters = eventually("the stray reply dead-lettered", WAIT, || async {
        let answer = app
            .get(&format!("/admin/dead-letters/{}", saga::consumer::QUEUE))
            .await;
        answer.body.as_array().filter(|l| !l.is_empty()).cloned()
    })
    .await;
    assert_eq!(dead_letters.len(), 1, "{dead_letters:?}");
    assert_eq!(dead_letters[0]["body"]["eventId"], json!(stray.event_id));
    assert_eq!(dead_letters[0]["failureKind"], "retries-exhausted");

    // Each saga completed, whatever the duplicates and the batching. An acknowledgement that
    // goes well announces nothing of its own (COMPLAINT_CREATED and NOTIFICATION_SENT say it
    // all): by now the keeper has been through the whole backlog, and the saga exchange heard
    // nothing about these complaints.
    for (id, _) in &acknowledged {
        saga_reaches(&app, id, "ACKNOWLEDGEMENT", "COMPLETED").await;
    }
    let announced: Vec<String> = sagas
        .seen()
        .into_iter()
        .filter(|d| {
            acknowledged
                .iter()
                .any(|(id, _)| d.envelope.event_data["complaintId"] == json!(id))
        })
        .map(|d| d.envelope.event_type)
        .collect();
    assert!(announced.is_empty(), "{announced:?}");

    // Created then resolved, in that order: a saga each, and no SLA timer left armed.
    let pool = app.pool().await;
    let ids: Vec<String> = resolved.iter().map(Uuid::to_string).collect();
    let started: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sagas WHERE complaint_id = ANY($1)")
            .bind(&ids)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(started, ids.len() as i64);
    let armed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sla_timers WHERE complaint_id = ANY($1)")
            .bind(&resolved)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        armed, 0,
        "a resolution applied before its creation re-armed a timer"
    );
    notifier.close().await;
    app.stop().await;
}
