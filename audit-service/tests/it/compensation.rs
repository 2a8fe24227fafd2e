//! A compensated saga step: its entries are marked (never rewritten) and AUDIT_COMPENSATION
//! is published through the outbox.

use crate::{
    events::{at, correlation, event, id, ids},
    harness::{spawn_app, TestApp},
};
use serde_json::json;
use shared::event::{exchanges, Envelope, EventType};
use std::collections::HashSet;

/// The assignment saga of complaint `complaint` to the unknown agent `ghost`, as the services
/// publish it (DESIGN.md, saga 2).
struct FailedAssignment {
    correlation: String,
    created: Envelope,
    assigned_to_alice: Envelope,
    assigned_to_ghost: Envelope,
    complainant_notified: Envelope,
    assignee_not_notified: Envelope,
    compensation_required: Envelope,
    reverted: Envelope,
    notification_retracted: Envelope,
}

impl FailedAssignment {
    fn new(complaint: &str) -> Self {
        let correlation = correlation();
        let created = event(EventType::ComplaintCreated, complaint, "create-request")
            .at(at(0))
            .build();
        let assigned_to_alice = event(EventType::ComplaintAssigned, complaint, "first-assign")
            .data(json!({ "agentId": "alice" }))
            .version(2)
            .at(at(1_000))
            .build();
        let assigned_to_ghost = event(EventType::ComplaintAssigned, complaint, &correlation)
            .data(json!({ "agentId": "ghost", "previousAgentId": "alice" }))
            .version(3)
            .by("supervisor-1")
            .caused_by_command("command-assign")
            .at(at(2_000))
            .build();
        let complainant_notified =
            event(EventType::NotificationSent, "n-complainant", &correlation)
                .caused_by(&assigned_to_ghost)
                .at(at(2_100))
                .build();
        let assignee_not_notified =
            event(EventType::NotificationFailed, "n-assignee", &correlation)
                .data(json!({ "reason": "unknown agent ghost" }))
                .caused_by(&assigned_to_ghost)
                .at(at(2_200))
                .build();
        let compensation_required = event(
            EventType::ComplaintCompensationRequired,
            complaint,
            &correlation,
        )
        .data(json!({
            "agentId": "ghost",
            "reason": "agent ghost could not be notified",
            "failedStep": "NOTIFY_ASSIGNEE"
        }))
        .version(4)
        .caused_by(&assignee_not_notified)
        .at(at(2_300))
        .build();
        let reverted = event(
            EventType::ComplaintAssignmentReverted,
            complaint,
            &correlation,
        )
        .data(json!({ "agentId": "ghost", "reason": "agent ghost could not be notified" }))
        .version(5)
        .caused_by(&compensation_required)
        .at(at(2_400))
        .build();
        let notification_retracted = event(
            EventType::NotificationCompensation,
            "n-complainant",
            &correlation,
        )
        .caused_by(&compensation_required)
        .at(at(2_500))
        .build();
        Self {
            correlation,
            created,
            assigned_to_alice,
            assigned_to_ghost,
            complainant_notified,
            assignee_not_notified,
            compensation_required,
            reverted,
            notification_retracted,
        }
    }

    fn all(&self) -> Vec<Envelope> {
        vec![
            self.created.clone(),
            self.assigned_to_alice.clone(),
            self.assigned_to_ghost.clone(),
            self.complainant_notified.clone(),
            self.assignee_not_notified.clone(),
            self.compensation_required.clone(),
            self.reverted.clone(),
            self.notification_retracted.clone(),
        ]
    }

    /// The entries of the compensated step.
    fn step(&self) -> HashSet<String> {
        [
            &self.assigned_to_ghost,
            &self.complainant_notified,
            &self.assignee_not_notified,
        ]
        .map(id)
        .into_iter()
        .collect()
    }
}

/// The event ids an AUDIT_COMPENSATION lists.
fn listed(announcement: &Envelope) -> HashSet<String> {
    announcement.event_data["compensatedEntries"]
        .as_array()
        .expect("compensatedEntries")
        .iter()
        .map(|e| e["eventId"].as_str().unwrap().to_owned())
        .collect()
}

/// Every recorded entry (all aggregates of these tests), by event id.
async fn compensated_ids(app: &TestApp) -> HashSet<String> {
    app.search_all("")
        .await
        .into_iter()
        .filter(|e| e["compensated"] == true)
        .map(|e| e["eventId"].as_str().unwrap().to_owned())
        .collect()
}

async fn outbox_rows(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn compensation_marks_exactly_the_entries_of_the_failed_assignment_and_announces_them() {
    let app = spawn_app().await;
    let tap = app.tap(exchanges::AUDIT).await;
    let saga = FailedAssignment::new("complaint-1");
    // Another complaint assigned to the same agent, untouched by this compensation.
    let other_corr = correlation();
    let other_assignment = event(EventType::ComplaintAssigned, "complaint-2", &other_corr)
        .data(json!({ "agentId": "ghost" }))
        .at(at(2_000))
        .build();
    let other_notification = event(EventType::NotificationSent, "n-other", &other_corr)
        .caused_by(&other_assignment)
        .at(at(2_100))
        .build();
    app.publish(&[other_assignment, other_notification]).await;
    app.publish(&saga.all()).await;

    let announcement = tap.received(1).await.remove(0);
    assert_eq!(announcement.event_type, "AUDIT_COMPENSATION");
    assert_eq!(announcement.metadata.source, "audit-service");
    assert_eq!(announcement.metadata.correlation_id, saga.correlation);
    assert_eq!(
        announcement.metadata.causation_id,
        Some(id(&saga.compensation_required))
    );
    assert_eq!(announcement.aggregate_id, id(&saga.compensation_required));
    assert_eq!(announcement.event_data["complaintId"], "complaint-1");
    assert_eq!(announcement.event_data["failedStep"], "NOTIFY_ASSIGNEE");
    assert_eq!(listed(&announcement), saga.step());

    // The audit trail records its own announcement too, caused by the compensation request.
    let recorded = app.recorded(&saga.correlation, 7).await;
    assert!(recorded
        .iter()
        .any(|e| e["eventType"] == "AUDIT_COMPENSATION"));
    assert_eq!(compensated_ids(&app).await, saga.step());

    let trail = app.trail("complaint-1").await;
    let marked: Vec<(&str, bool)> = trail
        .iter()
        .map(|e| (e["eventType"].as_str().unwrap(), e["compensated"] == true))
        .collect();
    assert_eq!(
        marked,
        [
            ("COMPLAINT_CREATED", false),
            ("COMPLAINT_ASSIGNED", false),
            ("COMPLAINT_ASSIGNED", true),
            ("COMPLAINT_COMPENSATION_REQUIRED", false),
            ("COMPLAINT_ASSIGNMENT_REVERTED", false),
        ]
    );
    let mark = &trail[2]["compensations"][0];
    assert_eq!(mark["compensatingEventId"], id(&saga.compensation_required));
    assert_eq!(mark["reason"], "agent ghost could not be notified");
    assert_eq!(mark["failedStep"], "NOTIFY_ASSIGNEE");
    assert!(mark["compensatedAt"].as_str().is_some());

    // Marks are laid over the entries: their content and the chain are untouched.
    assert_eq!(app.verify().await["valid"], true);
    app.stop().await;
}

#[tokio::test]
async fn a_redelivered_compensation_request_marks_and_announces_nothing_more() {
    let app = spawn_app().await;
    let saga = FailedAssignment::new("complaint-1");
    app.publish(&saga.all()).await;
    app.recorded(&saga.correlation, 7).await; // the step, the compensation and its announcement
    assert_eq!(outbox_rows(&app).await, 1);

    app.publish(std::slice::from_ref(&saga.compensation_required))
        .await;
    let sentinel = event(EventType::SagaCompensated, "saga-1", &saga.correlation).build();
    app.publish(std::slice::from_ref(&sentinel)).await;
    app.recorded(&saga.correlation, 8).await;

    assert_eq!(outbox_rows(&app).await, 1, "one AUDIT_COMPENSATION only");
    assert_eq!(compensated_ids(&app).await, saga.step());
    let marks: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_compensations")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(marks, 3);
    app.stop().await;
}

#[tokio::test]
async fn an_entry_of_the_step_arriving_after_the_compensation_is_marked_and_announced() {
    let app = spawn_app().await;
    let tap = app.tap(exchanges::AUDIT).await;
    let saga = FailedAssignment::new("complaint-1");
    // The complainant's notification is late (it was retried, say).
    app.publish(&[
        saga.assigned_to_ghost.clone(),
        saga.assignee_not_notified.clone(),
        saga.compensation_required.clone(),
    ])
    .await;
    let first = tap.received(1).await.remove(0);
    assert_eq!(
        listed(&first),
        [&saga.assigned_to_ghost, &saga.assignee_not_notified]
            .map(id)
            .into_iter()
            .collect()
    );

    app.publish(std::slice::from_ref(&saga.complainant_notified))
        .await;
    let second = tap.received(2).await.remove(1);
    assert_eq!(
        listed(&second),
        HashSet::from([id(&saga.complainant_notified)])
    );
    assert_eq!(second.metadata.version, 2);
    assert_eq!(second.aggregate_id, first.aggregate_id);
    assert_eq!(compensated_ids(&app).await, saga.step());
    app.stop().await;
}

#[tokio::test]
async fn an_assignment_arriving_after_its_compensation_is_marked_with_what_it_caused() {
    let app = spawn_app().await;
    let tap = app.tap(exchanges::AUDIT).await;
    let saga = FailedAssignment::new("complaint-1");
    app.publish(&[
        saga.assignee_not_notified.clone(),
        saga.compensation_required.clone(),
    ])
    .await;
    // Nothing to mark yet, but the saga hears that the trail has handled the request.
    let first = tap.received(1).await.remove(0);
    assert_eq!(listed(&first), HashSet::new());

    app.publish(std::slice::from_ref(&saga.assigned_to_ghost))
        .await;
    let second = tap.received(2).await.remove(1);
    assert_eq!(
        listed(&second),
        [&saga.assigned_to_ghost, &saga.assignee_not_notified]
            .map(id)
            .into_iter()
            .collect()
    );
    app.stop().await;
}

#[tokio::test]
async fn an_unreadable_compensation_request_is_recorded_and_compensates_nothing() {
    let app = spawn_app().await;
    let corr = correlation();
    let malformed = event(
        EventType::ComplaintCompensationRequired,
        "complaint-9",
        &corr,
    )
    .data(json!({ "reason": "no agent named" }))
    .build();
    let after = event(EventType::ComplaintCreated, "complaint-10", &corr).build();
    app.publish(&[malformed.clone(), after]).await;
    let recorded = app.recorded(&corr, 2).await;
    assert!(ids(&recorded).contains(&id(&malformed)));
    assert_eq!(outbox_rows(&app).await, 0);
    app.stop().await;
}
