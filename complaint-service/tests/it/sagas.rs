//! The sagas complaint-service keeps, with the other services played by the test: it publishes
//! their replies (NOTIFICATION_SENT/FAILED, NOTIFICATION_COMPENSATION, AUDIT_COMPENSATION) as
//! they would, and watches the saga state, the complaint and the events it publishes.

use crate::harness::{spawn_app_with, TestApp, WAIT};
use chrono::Utc;
use complaint_service::{saga, store::events};
use serde_json::{json, Value};
use shared::{
    complaint::{ComplaintEvent, ComplaintPriorityChanged, EventCodec, Priority},
    event::{Envelope, EventType, Metadata},
    test_support::{eventually, EventTap, StandIn},
};
use std::time::Duration;
use uuid::Uuid;

/// Publishes on the app's vhost as `service` would, with its permissions.
pub(crate) async fn publisher_for(app: &TestApp, service: &str) -> StandIn {
    StandIn::new(&app.vhost, service).await
}

/// A reply to `cause`, carrying its correlation and naming it as cause.
pub(crate) fn reply(cause: &Envelope, event_type: EventType, data: Value) -> Envelope {
    Envelope::new(
        event_type,
        Uuid::now_v7().to_string(),
        "Notification",
        data,
        Metadata::caused_by(cause, "notification-service", Utc::now()),
    )
}

pub(crate) fn notification(step: &str, audience: &str, complaint_id: &str) -> Value {
    json!({ "step": step, "audience": audience, "complaintId": complaint_id, "channel": "email" })
}

/// The event of `event_type` the app published for `complaint_id`.
pub(crate) async fn published(
    tap: &EventTap,
    complaint_id: &str,
    event_type: EventType,
) -> Envelope {
    tap.published(complaint_id, event_type).await
}

async fn sagas(app: &TestApp, complaint_id: &str) -> Vec<Value> {
    let answer = app
        .get(&format!("/api/complaints/{complaint_id}/sagas"))
        .await;
    assert!(answer.status.is_success(), "{answer:?}");
    answer.body.as_array().cloned().unwrap_or_default()
}

/// Waits until the complaint's saga of `kind` has `status`.
pub(crate) async fn saga_reaches(
    app: &TestApp,
    complaint_id: &str,
    kind: &str,
    status: &str,
) -> Value {
    eventually(&format!("the {kind} saga {status}"), WAIT, || async {
        sagas(app, complaint_id)
            .await
            .into_iter()
            .find(|s| s["kind"] == kind && s["status"] == status)
    })
    .await
}

/// Assigns complaint `id` to an agent no one can reach, and answers as notification-service
/// that the assignee could not be told; returns COMPLAINT_ASSIGNED and that NOTIFICATION_FAILED.
pub(crate) async fn fail_an_assignment(
    app: &TestApp,
    tap: &EventTap,
    notifier: &StandIn,
    id: &str,
) -> (Envelope, Envelope) {
    app.ok(id, "assign", json!({ "agentId": "agent-unknown" }))
        .await;
    let assigned = published(tap, id, EventType::ComplaintAssigned).await;
    saga_reaches(app, id, "ASSIGNMENT", "RUNNING").await;
    let failed = reply(
        &assigned,
        EventType::NotificationFailed,
        json!({ "step": "assignment", "audience": "assignee", "complaintId": id, "reason": "unknown agent" }),
    );
    notifier.publish_one(&failed).await;
    (assigned, failed)
}

/// Answers COMPLAINT_COMPENSATION_REQUIRED (`required`) as notification-service and
/// audit-service do once they have compensated their side.
pub(crate) async fn answer_the_compensation(
    notifier: &StandIn,
    auditor: &StandIn,
    required: &Envelope,
    id: &str,
) {
    let retracted = reply(
        required,
        EventType::NotificationCompensation,
        json!({ "complaintId": id }),
    );
    notifier.publish_one(&retracted).await;
    let mut audited = reply(
        required,
        EventType::AuditCompensation,
        json!({ "complaintId": id }),
    );
    audited.aggregate_type = "AuditCompensation".into();
    auditor.publish_one(&audited).await;
}

/// Answers COMPLAINT_CREATED (`created`) as notification-service does once the complainant
/// was told, and waits for the acknowledgement saga to complete.
pub(crate) async fn acknowledge(app: &TestApp, notifier: &StandIn, created: &Envelope, id: &str) {
    let sent = reply(
        created,
        EventType::NotificationSent,
        notification("acknowledgement", "complainant", id),
    );
    notifier.publish_one(&sent).await;
    saga_reaches(app, id, "ACKNOWLEDGEMENT", "COMPLETED").await;
}

#[tokio::test]
async fn a_sent_acknowledgement_completes_the_acknowledgement_saga() {
    let app = spawn_app_with(|_| {}).await;
    let tap = EventTap::bind_to(&app.vhost, shared::event::exchanges::COMPLAINTS).await;
    let notifier = publisher_for(&app, "notification-service").await;
    let id = app.created(1).await;
    let created = published(&tap, &id, EventType::ComplaintCreated).await;
    saga_reaches(&app, &id, "ACKNOWLEDGEMENT", "RUNNING").await;

    let sent = reply(
        &created,
        EventType::NotificationSent,
        notification("acknowledgement", "complainant", &id),
    );
    notifier.publish_one(&sent).await;
    // The same reply twice changes nothing more.
    notifier.publish_one(&sent).await;

    let saga = saga_reaches(&app, &id, "ACKNOWLEDGEMENT", "COMPLETED").await;
    assert_eq!(saga["steps"][0]["status"], "COMPLETED");
    assert_eq!(
        saga["correlationId"],
        json!(created.metadata.correlation_id)
    );
    let one = app
        .get(&format!("/api/sagas/{}", saga["sagaId"].as_str().unwrap()))
        .await;
    assert_eq!(one.body["status"], "COMPLETED");
    assert_eq!(
        app.get(&format!("/api/sagas/{}", Uuid::now_v7()))
            .await
            .status,
        404
    );
    notifier.close().await;
    app.stop().await;
}

#[tokio::test]
async fn an_assignee_that_cannot_be_notified_reverts_the_assignment_and_the_saga_ends_compensated()
{
    let app = spawn_app_with(|_| {}).await;
    let tap = EventTap::bind_to(&app.vhost, shared::event::exchanges::COMPLAINTS).await;
    let notifier = publisher_for(&app, "notification-service").await;
    let auditor = publisher_for(&app, "audit-service").await;
    let id = app.created(2).await;
    let (assigned, failed) = fail_an_assignment(&app, &tap, &notifier, &id).await;

    let required = published(&tap, &id, EventType::ComplaintCompensationRequired).await;
    let reverted = published(&tap, &id, EventType::ComplaintAssignmentReverted).await;
    assert_eq!(required.event_data["agentId"], "agent-unknown");
    assert_eq!(
        required.metadata.correlation_id,
        assigned.metadata.correlation_id
    );
    assert_eq!(
        reverted.metadata.causation_id,
        Some(failed.event_id.to_string())
    );
    saga_reaches(&app, &id, "ASSIGNMENT", "COMPENSATING").await;
    let complaint = app.complaint_at(&id, reverted.metadata.version).await;
    assert_eq!(complaint["status"], "OPEN");
    assert!(complaint["assignee"].is_null());

    // The other services compensate their side and say so, naming the request as cause.
    answer_the_compensation(&notifier, &auditor, &required, &id).await;

    let saga = saga_reaches(&app, &id, "ASSIGNMENT", "COMPENSATED").await;
    let steps: Vec<(&str, &str)> = saga["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [
            ("notify-assignee", "FAILED"),
            ("revert-assignment", "COMPLETED"),
            ("retract-notifications", "COMPLETED"),
            ("mark-audit-compensated", "COMPLETED"),
        ]
    );
    notifier.close().await;
    auditor.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_compensation_that_races_a_users_command_is_retried_and_not_dead_lettered() {
    let app = spawn_app_with(|_| {}).await;
    let tap = EventTap::bind_to(&app.vhost, shared::event::exchanges::COMPLAINTS).await;
    let notifier = publisher_for(&app, "notification-service").await;
    let id = app.created(5).await;
    let assigned_version = app
        .ok(&id, "assign", json!({ "agentId": "agent-unknown" }))
        .await;
    let assigned = published(&tap, &id, EventType::ComplaintAssigned).await;
    saga_reaches(&app, &id, "ASSIGNMENT", "RUNNING").await;

    // A user's command is in flight: it has appended the complaint's next version and not yet
    // committed, as if it had read the complaint just before the compensation did.
    let pool = app.pool().await;
    let mut users_command = events::begin(&pool).await.unwrap();
    let users_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *users_command)
        .await
        .unwrap();
    let lowered = ComplaintEvent::PriorityChanged(ComplaintPriorityChanged {
        from: Priority::High,
        to: Priority::Low,
        reason: None,
        sla_deadline: Utc::now() + chrono::Duration::days(7),
    })
    .to_envelope(
        &id,
        Metadata::new("complaint-service", "a-user".into(), Utc::now())
            .with_version(assigned_version + 1),
    );
    let complaint_id: Uuid = id.parse().unwrap();
    let appended = events::append(&mut users_command, complaint_id, &[lowered])
        .await
        .unwrap();
    assert_eq!(appended, events::Appended::Done);

    let failed = reply(
        &assigned,
        EventType::NotificationFailed,
        json!({ "step": "assignment", "audience": "assignee", "complaintId": id, "reason": "unknown agent" }),
    );
    notifier.publish_one(&failed).await;
    // The compensation read the same version and now waits for the user's append to settle.
    eventually(
        "the compensation to wait on the user's command",
        WAIT,
        || async {
            let waiting: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity
                            WHERE $1 = ANY(pg_blocking_pids(pid))
                              AND query LIKE '%INSERT INTO complaint_events%')",
            )
            .bind(users_pid)
            .fetch_one(&pool)
            .await
            .unwrap();
            waiting.then_some(())
        },
    )
    .await;
    users_command.commit().await.unwrap();

    // The compensation lost the race, is tried again and goes through after the user's change.
    let reverted = published(&tap, &id, EventType::ComplaintAssignmentReverted).await;
    assert_eq!(reverted.metadata.version, assigned_version + 3);
    let complaint = app.complaint_at(&id, reverted.metadata.version).await;
    assert_eq!(complaint["status"], "OPEN");
    assert_eq!(complaint["priority"], "LOW");
    let dead_letters = app
        .get(&format!("/admin/dead-letters/{}", saga::consumer::QUEUE))
        .await;
    assert_eq!(dead_letters.body, json!([]), "{dead_letters:?}");
    notifier.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_passed_sla_deadline_escalates_the_complaint_even_after_a_restart() {
    let app = spawn_app_with(|config| {
        config.policy.sla_high = Duration::from_secs(2);
        config.saga.clock_interval = Duration::from_millis(200);
    })
    .await;
    let id = app.created(3).await;
    // The service goes down before the deadline and comes back after it.
    let (config, vhost) = (app.config.clone(), app.vhost.clone());
    app.stop().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let app = crate::harness::start(config, vhost).await;

    let escalated = eventually("the escalation", WAIT, || async {
        let complaint = app.get(&format!("/api/complaints/{id}")).await.body;
        let level = complaint["escalationLevel"]
            .as_u64()
            .or_else(|| complaint["complaint"]["escalationLevel"].as_u64());
        (level == Some(1)).then_some(complaint)
    })
    .await;
    let text = escalated.to_string();
    assert!(
        text.contains("CRITICAL"),
        "priority raised one level: {text}"
    );
    saga_reaches(&app, &id, "ESCALATION", "RUNNING").await;
    app.stop().await;
}

#[tokio::test]
async fn a_step_with_no_answer_in_time_fails_the_saga_and_calls_for_a_person() {
    let app = spawn_app_with(|config| {
        config.saga.step_timeout = Duration::from_millis(500);
        config.saga.clock_interval = Duration::from_millis(200);
    })
    .await;
    let errors = EventTap::bind_to(&app.vhost, shared::event::exchanges::ERRORS).await;
    let id = app.created(4).await;

    let saga = saga_reaches(&app, &id, "ACKNOWLEDGEMENT", "FAILED").await;
    assert_eq!(saga["steps"][0]["status"], "FAILED");
    let alarm = errors
        .wait_for(
            EventType::ErrorManualInterventionRequired.as_str(),
            |data| data["sagaId"] == saga["sagaId"],
        )
        .await;
    assert_eq!(alarm.event_data["complaintId"], json!(id));
    assert_eq!(alarm.event_data["severity"], "CRITICAL");
    assert_eq!(alarm.event_data["kind"], "SAGA");
    assert_eq!(alarm.event_data["service"], "complaint-service");
    assert_eq!(alarm.event_data["retryable"], false);
    assert_eq!(alarm.event_data["failingMessage"]["aggregateId"], json!(id));
    app.stop().await;
}
