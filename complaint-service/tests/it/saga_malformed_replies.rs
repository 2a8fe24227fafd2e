//! Replies whose data is not the contract (`shared::event::notification`,
//! `shared::event::CompensationDone`): the saga keeper dead-letters each with a reason that
//! names the field, and the saga goes on as if it had never come: it still waits, and the
//! well-formed answer that follows moves it.

use crate::{
    harness::{spawn_app_with, TestApp, WAIT},
    sagas::{
        acknowledge, answer_the_compensation, fail_an_assignment, notification, published,
        publisher_for, reply, saga_reaches,
    },
};
use complaint_service::saga;
use serde_json::{json, Value};
use shared::{
    event::{exchanges, Envelope, EventType},
    test_support::{eventually, EventTap},
};

/// The dead letter of `event` in the saga keeper's DLQ, once it is there.
async fn dead_letter_of(app: &TestApp, event: &Envelope) -> Value {
    eventually(
        &format!("{} dead-lettered", event.event_type),
        WAIT,
        || async {
            let answer = app
                .get(&format!("/admin/dead-letters/{}", saga::consumer::QUEUE))
                .await;
            answer.body.as_array().and_then(|letters| {
                letters
                    .iter()
                    .find(|l| l["body"]["eventId"] == json!(event.event_id))
                    .cloned()
            })
        },
    )
    .await
}

/// Dead-lettered as refused at once (not retried), with a reason containing `names`.
fn assert_refused(letter: &Value, names: &str) {
    assert_eq!(letter["failureKind"], "rejected", "{letter}");
    let reason = letter["reason"].as_str().unwrap_or_default();
    assert!(reason.contains(names), "{reason}");
}

fn saga_step(saga: &Value, name: &str) -> Value {
    saga["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|s| s["name"] == name))
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_sent_notification_of_an_unknown_step_is_dead_lettered_and_the_saga_still_waits() {
    let app = spawn_app_with(|_| {}).await;
    let tap = EventTap::bind_to(&app.vhost, exchanges::COMPLAINTS).await;
    let notifier = publisher_for(&app, "notification-service").await;
    let id = app.created(1).await;
    let created = published(&tap, &id, EventType::ComplaintCreated).await;
    saga_reaches(&app, &id, "ACKNOWLEDGEMENT", "RUNNING").await;

    let sideways = reply(
        &created,
        EventType::NotificationSent,
        notification("sideways", "complainant", &id),
    );
    notifier.publish_one(&sideways).await;
    let letter = dead_letter_of(&app, &sideways).await;
    assert_refused(&letter, "step: unknown variant `sideways`");
    let saga = saga_reaches(&app, &id, "ACKNOWLEDGEMENT", "RUNNING").await;
    assert_eq!(
        saga_step(&saga, saga::policy::ACKNOWLEDGE)["status"],
        "PENDING"
    );

    acknowledge(&app, &notifier, &created, &id).await;
    notifier.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_failed_notification_without_its_reason_is_dead_lettered_and_nothing_is_compensated() {
    let app = spawn_app_with(|_| {}).await;
    let tap = EventTap::bind_to(&app.vhost, exchanges::COMPLAINTS).await;
    let notifier = publisher_for(&app, "notification-service").await;
    let id = app.created(2).await;
    let assigned_version = app
        .ok(&id, "assign", json!({ "agentId": "agent-unknown" }))
        .await;
    let assigned = published(&tap, &id, EventType::ComplaintAssigned).await;
    saga_reaches(&app, &id, "ASSIGNMENT", "RUNNING").await;

    let no_reason = reply(
        &assigned,
        EventType::NotificationFailed,
        notification("assignment", "assignee", &id),
    );
    notifier.publish_one(&no_reason).await;
    let letter = dead_letter_of(&app, &no_reason).await;
    assert_refused(&letter, "missing field `reason`");

    // Refused before it wrote anything: no compensation asked, the assignment stands.
    saga_reaches(&app, &id, "ASSIGNMENT", "RUNNING").await;
    let types: Vec<String> = sqlx::query_scalar(
        "SELECT event_type FROM complaint_events WHERE aggregate_id = $1::uuid ORDER BY version",
    )
    .bind(&id)
    .fetch_all(&app.pool().await)
    .await
    .unwrap();
    assert_eq!(types, ["COMPLAINT_CREATED", "COMPLAINT_ASSIGNED"]);
    let complaint = app.complaint_at(&id, assigned_version).await;
    assert_eq!(complaint["assignee"], "agent-unknown");
    notifier.close().await;
    app.stop().await;
}

#[tokio::test]
async fn compensation_answers_without_their_complaint_are_dead_lettered_and_their_steps_stay_pending(
) {
    let app = spawn_app_with(|_| {}).await;
    let tap = EventTap::bind_to(&app.vhost, exchanges::COMPLAINTS).await;
    let notifier = publisher_for(&app, "notification-service").await;
    let auditor = publisher_for(&app, "audit-service").await;
    let id = app.created(3).await;
    fail_an_assignment(&app, &tap, &notifier, &id).await;
    let required = published(&tap, &id, EventType::ComplaintCompensationRequired).await;
    saga_reaches(&app, &id, "ASSIGNMENT", "COMPENSATING").await;

    let retracted_of_nothing = reply(&required, EventType::NotificationCompensation, json!({}));
    notifier.publish_one(&retracted_of_nothing).await;
    let mut audited_as_number = reply(
        &required,
        EventType::AuditCompensation,
        json!({ "complaintId": 3 }),
    );
    audited_as_number.aggregate_type = "AuditCompensation".into();
    auditor.publish_one(&audited_as_number).await;

    let letter = dead_letter_of(&app, &retracted_of_nothing).await;
    assert_refused(&letter, "missing field `complaintId`");
    let letter = dead_letter_of(&app, &audited_as_number).await;
    assert_refused(&letter, "complaintId: invalid type: integer `3`");
    let saga = saga_reaches(&app, &id, "ASSIGNMENT", "COMPENSATING").await;
    for step in [
        saga::policy::RETRACT_NOTIFICATIONS,
        saga::policy::MARK_AUDIT,
    ] {
        assert_eq!(saga_step(&saga, step)["status"], "PENDING", "{step}");
    }

    // The well-formed answers finish the compensation.
    answer_the_compensation(&notifier, &auditor, &required, &id).await;
    saga_reaches(&app, &id, "ASSIGNMENT", "COMPENSATED").await;
    notifier.close().await;
    auditor.close().await;
    app.stop().await;
}
