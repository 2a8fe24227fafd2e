//! A backlog handed over in batches (issue 11): several events of one complaint in one
//! batch, and a redelivered event among them, leave the notifications that handling the same
//! events one by one leaves: the same rows, in the same order, and one NOTIFICATION_FAILED.

use crate::{
    complaints::ComplaintScript,
    harness::{spawn_app, TestApp},
};
use serde_json::{json, Value};
use shared::{
    event::Envelope,
    test_support::{eventually, EventTap},
};
use std::{collections::HashSet, time::Duration};

/// Two complaints: one assigned and then escalated, the other assigned to an agent the
/// directory does not know, that assignment delivered twice.
fn events() -> Vec<Envelope> {
    let (mut first, created_first) = ComplaintScript::create("Late refund", "ada@example.com");
    let (mut second, created_second) = ComplaintScript::create("Missing parts", "bob@example.com");
    let assigned_first = first.assign("agent-001");
    let assigned_second = second.assign("ghost-agent");
    let escalated_first = first.escalate();
    vec![
        created_first,
        assigned_first,
        created_second,
        assigned_second.clone(),
        assigned_second,
        escalated_first,
    ]
}

/// The notifications of `complaint`, oldest first, as far as they do not differ from one run
/// to the next (ids, times and how far delivery got do).
async fn notifications(app: &TestApp, complaint: &str) -> Vec<Value> {
    let mut items = app.history(complaint).await;
    items.reverse();
    items
        .iter()
        .map(|n| {
            json!({
                "triggeringEventId": n["triggeringEventId"],
                "triggeringEventType": n["triggeringEventType"],
                "correlationId": n["correlationId"],
                "step": n["step"],
                "audience": n["audience"],
                "agentId": n["agentId"],
                "recipient": n["recipient"],
                "recipientName": n["recipientName"],
                "channel": n["channel"],
                "subject": n["subject"],
                "body": n["body"],
                "failed": n["status"] == "FAILED",
                "failureReason": n["failureReason"],
            })
        })
        .collect()
}

/// Waits until every event of `events` has its notifications in `app`'s history.
async fn handled(app: &TestApp, events: &[Envelope]) {
    eventually("every event handled", crate::harness::WAIT, || async move {
        for event in events {
            let caused = app.history(&event.aggregate_id).await;
            if !caused
                .iter()
                .any(|n| n["triggeringEventId"] == event.event_id.to_string())
            {
                return None;
            }
        }
        Some(())
    })
    .await
}

fn failures(tap: &EventTap, complaint: &str) -> usize {
    tap.matching("NOTIFICATION_FAILED", |d| d["complaintId"] == complaint)
        .len()
}

#[tokio::test]
async fn a_batch_of_several_events_of_a_complaint_and_a_redelivery_notifies_as_one_by_one_handling_does(
) {
    let events = events();
    let complaints: Vec<String> = events
        .iter()
        .map(|e| e.aggregate_id.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();

    // One by one: each event is published once the one before it has been handled.
    let one_by_one = spawn_app().await;
    for (n, event) in events.iter().enumerate() {
        one_by_one.publish(event).await;
        handled(&one_by_one, &events[..=n]).await;
    }

    // Together: the events wait in the queue while the service is down, and are handed over
    // in batches when it starts.
    let together = spawn_app().await.restart_with_backlog(&events).await;
    handled(&together, &events).await;

    for complaint in &complaints {
        let expected = notifications(&one_by_one, complaint).await;
        assert!(!expected.is_empty());
        assert_eq!(notifications(&together, complaint).await, expected);
    }
    let with_ghost = &events[3].aggregate_id;
    for app in [&one_by_one, &together] {
        app.published
            .wait_for("NOTIFICATION_FAILED", |d| {
                d["complaintId"] == with_ghost.as_str()
            })
            .await;
    }
    // The redelivery published nothing more (it would follow the first within the relay's
    // round).
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(failures(&one_by_one.published, with_ghost), 1);
    assert_eq!(failures(&together.published, with_ghost), 1);

    one_by_one.stop().await;
    together.stop().await;
}

/// The compensation looks up what the assignment it undoes sent: handled in the same batch
/// as that assignment, it must still find the assignment's notifications (created by the
/// same transaction, and cancelled then, before anyone could send them).
#[tokio::test]
async fn a_compensation_handled_with_its_assignment_withdraws_what_the_assignment_planned() {
    let (mut complaint, created) = ComplaintScript::create("Double charge", "ada@example.com");
    let id = complaint.id.clone();
    let assigned = complaint.assign("ghost-agent");
    let required = complaint.require_compensation("ghost-agent");
    let backlog = [created, assigned.clone(), required.clone()];
    let app = spawn_app().await.restart_with_backlog(&backlog).await;

    let compensated = app
        .published
        .wait_for("NOTIFICATION_COMPENSATION", |d| {
            d["complaintId"] == id.as_str()
        })
        .await;
    let data = &compensated.event_data;
    assert_eq!(data["triggeringEventId"], required.event_id.to_string());
    let told = app
        .wait_for_notification("the complainant's assignment notice", &id, |n| {
            n["triggeringEventId"] == assigned.event_id.to_string()
                && n["audience"] == "complainant"
        })
        .await;
    // Cancelled if still pending (the same batch), retracted if it was sent already.
    let withdrawn: Vec<Value> = ["cancelledNotificationIds", "retractedNotificationIds"]
        .iter()
        .flat_map(|key| data[key].as_array().cloned().unwrap_or_default())
        .collect();
    assert_eq!(withdrawn, vec![told["id"].clone()], "{data}");
    assert!(told["retractedAt"].is_string(), "{told}");
    app.stop().await;
}
