//! Failed-saga recovery across the four services: a saga fails while notification-service is
//! stopped; once the service is back an operator retries it, and it completes with every
//! effect exactly once: one mail, one audit entry per event, no event twice in the store.

use crate::{
    api::complaints::{new_complaint, COMPLAINANT},
    expect::once_each,
    suite::{Suite, WAIT},
};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use shared::test_support::eventually;
use std::time::Duration;

/// The saga steps fail fast here: the test keeps notification-service stopped past it.
const STEP_TIMEOUT: Duration = Duration::from_secs(2);

#[tokio::test]
async fn a_saga_failed_while_notifications_were_down_completes_once_retried_with_every_effect_once()
{
    let mut suite = Suite::start_with(|c| c.saga.step_timeout = STEP_TIMEOUT).await;
    suite.notifications.stop().await;
    let created = suite
        .create_complaint(new_complaint("Refund promised, never paid", "HIGH"))
        .await;
    let id = created.complaint_id.clone();
    let failed = suite.saga_reaches(&id, "ACKNOWLEDGEMENT", "FAILED").await;
    let saga_path = format!("/api/sagas/{}", failed.saga_id);

    // Back: it sends the mail it owed; the saga, already failed, keeps the answer.
    suite.notifications.start().await;
    suite.mails_to(COMPLAINANT, 1).await;
    eventually("the late answer kept on the saga", WAIT, || async {
        let saga = suite.get(&suite.complaints, &saga_path).await.body;
        let kept = saga["lateReplies"]
            .as_array()
            .is_some_and(|r| !r.is_empty());
        (kept && saga["status"] == "FAILED").then_some(())
    })
    .await;

    let retried = suite
        .call(
            &suite.complaints,
            Method::POST,
            &format!("{saga_path}/retry"),
            &[],
            None,
        )
        .await;
    assert_eq!(retried.status, StatusCode::OK, "{}", retried.body);
    assert_eq!(retried.body["sagaId"], Value::from(failed.saga_id.clone()));
    assert_eq!(retried.body["attempt"], 2);
    let done = suite
        .saga_reaches(&id, "ACKNOWLEDGEMENT", "COMPLETED")
        .await;
    assert_eq!(done.saga_id, failed.saga_id, "the same saga, resumed");

    // The saga's events reach the audit trail and the event store, each once. An
    // acknowledgement announces nothing while it goes well (no SAGA_STARTED: COMPLAINT_CREATED
    // says it), and everything from its first trouble on.
    let saga_events = ["SAGA_FAILED", "SAGA_RETRIED", "SAGA_COMPLETED"];
    let logged = suite
        .logged_all_of(&created.correlation_id, &saga_events)
        .await;
    once_each(
        "the event store",
        logged.iter().map(|e| e.envelope.event_id),
    );
    for event_type in saga_events {
        let count = logged
            .iter()
            .filter(|e| e.envelope.event_type == event_type)
            .count();
        assert_eq!(count, 1, "{event_type} once in the event store");
    }
    let trail = eventually("the saga's audit trail", WAIT, || async {
        let trail = suite.trail(&failed.saga_id).await;
        saga_events
            .iter()
            .all(|t| trail.iter().any(|e| e.event_type == *t))
            .then_some(trail)
    })
    .await;
    once_each("the audit trail", trail.iter().map(|e| e.event_id));
    let mut audited: Vec<&str> = trail.iter().map(|e| e.event_type.as_str()).collect();
    audited.sort_unstable();
    let mut expected = saga_events.to_vec();
    expected.push("ERROR_MANUAL_INTERVENTION_REQUIRED"); // the failure called a person
    expected.sort_unstable();
    assert_eq!(audited, expected, "one audit entry per fact: {trail:#?}");

    // One acknowledgement, one mail, even after a while.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let history = suite.notification_history(&id).await;
    let acknowledgements: Vec<_> = history
        .iter()
        .filter(|n| n.step == "acknowledgement")
        .collect();
    assert_eq!(acknowledgements.len(), 1, "{history:#?}");
    assert_eq!(acknowledgements[0].status, "SENT");
    assert_eq!(suite.smtp.received_by(COMPLAINANT).len(), 1);
    suite.stop().await;
}

#[tokio::test]
async fn an_abandoned_saga_keeps_the_operators_reason_in_the_audit_trail_and_the_event_store() {
    let mut suite = Suite::start_with(|c| c.saga.step_timeout = STEP_TIMEOUT).await;
    suite.notifications.stop().await;
    let created = suite
        .create_complaint(new_complaint("Parcel lost, no answer", "HIGH"))
        .await;
    let failed = suite
        .saga_reaches(&created.complaint_id, "ACKNOWLEDGEMENT", "FAILED")
        .await;

    let reason = "Customer called; acknowledged by phone";
    let abandoned = suite
        .call(
            &suite.complaints,
            Method::POST,
            &format!("/api/sagas/{}/abandon", failed.saga_id),
            &[],
            Some(serde_json::json!({ "reason": reason })),
        )
        .await;
    assert_eq!(abandoned.status, StatusCode::OK, "{}", abandoned.body);
    assert_eq!(abandoned.body["status"], "ABANDONED");

    let trail_path = format!("/api/audit/trail/{}?limit=200", failed.saga_id);
    let entry = eventually("SAGA_ABANDONED in the audit trail", WAIT, || async {
        let trail = suite.get(&suite.audit, &trail_path).await.body;
        trail["entries"].as_array().and_then(|entries| {
            entries
                .iter()
                .find(|e| e["eventType"] == "SAGA_ABANDONED")
                .cloned()
        })
    })
    .await;
    assert_eq!(entry["payload"]["reason"], reason);
    let logged = suite
        .logged_all_of(&created.correlation_id, &["SAGA_ABANDONED"])
        .await;
    let stored: Vec<_> = logged
        .iter()
        .filter(|e| e.envelope.event_type == "SAGA_ABANDONED")
        .collect();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].envelope.event_data["reason"], reason);

    // The answer that comes once notification-service is back does not reopen it.
    suite.notifications.start().await;
    suite.mails_to(COMPLAINANT, 1).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(suite.saga(&failed.saga_id).await.status, "ABANDONED");
    suite.stop().await;
}
