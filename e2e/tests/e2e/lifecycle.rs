//! A complaint's whole life, and where it ends up: the event store, the audit trail, the
//! notification history, the complainant's and the assignee's mailboxes, the sagas.

use crate::{
    api::{
        complaints::{new_complaint, Accepted, COMPLAINANT},
        notifications::{Agent, Notification},
    },
    expect::{self, audited_ids, event_types, logged_ids, once_each},
    suite::{Suite, WAIT},
};
use shared::{complaint::Status, test_support::eventually};
use std::collections::BTreeSet;

pub const LIFECYCLE: [&str; 5] = [
    "COMPLAINT_CREATED",
    "COMPLAINT_ASSIGNED",
    "COMPLAINT_PROCESSED",
    "COMPLAINT_RESOLVED",
    "COMPLAINT_CLOSED",
];

/// An active agent of notification-service's directory (one it can notify).
pub async fn an_agent(suite: &Suite) -> Agent {
    suite
        .agents()
        .await
        .into_iter()
        .find(|a| a.role == "AGENT" && a.active)
        .expect("the directory has an active agent")
}

/// Creates a complaint and takes it to CLOSED with `agent`; the accepted commands in order.
pub async fn run_lifecycle(suite: &Suite, title: &str, agent: &Agent) -> Vec<Accepted> {
    let created = suite.create_complaint(new_complaint(title, "HIGH")).await;
    let id = created.complaint_id.clone();
    vec![
        created,
        suite.assign(&id, &agent.id).await,
        suite.process(&id).await,
        suite.resolve(&id, "Refunded the second debit").await,
        suite.close(&id).await,
    ]
}

/// What a closed lifecycle leaves in the notification history: the acknowledgement, the
/// assignment (to the assignee and the complainant), and a status mail for each later step.
pub fn lifecycle_notifications_sent(history: &[Notification]) -> bool {
    let sent = |step, audience| {
        history
            .iter()
            .filter(|n| n.is(step, audience, "SENT"))
            .count()
    };
    sent("acknowledgement", "complainant") == 1
        && sent("assignment", "assignee") == 1
        && sent("assignment", "complainant") == 1
        && sent("status", "complainant") >= 3
}

/// Checks that every event of the lifecycle reached the event store (in version order, with
/// the state the read model has) and the audit trail, each once.
pub async fn check_events_everywhere(suite: &Suite, commands: &[Accepted]) {
    let id = &commands[0].complaint_id;
    let read_model = suite.complaint_at(id, 5).await;
    assert_eq!(read_model.status, Status::Closed);
    assert_eq!(read_model.version, 5);

    let stream = suite.stream_at(id, 5).await;
    assert_eq!(event_types(&stream), LIFECYCLE, "the stream, in order");
    let versions: Vec<i64> = stream.iter().map(|e| e.envelope.metadata.version).collect();
    assert_eq!(versions, [1, 2, 3, 4, 5]);
    for (event, command) in stream.iter().zip(commands) {
        assert_eq!(event.stream_id, format!("Complaint-{id}"));
        assert_eq!(
            event.envelope.metadata.correlation_id, command.correlation_id,
            "each event carries its command's correlation id"
        );
    }
    let rebuilt = suite.rebuilt_state(id).await;
    assert_eq!(rebuilt.version, 5);
    assert_eq!(rebuilt.event_count, 5);
    expect::same_complaint(&read_model, &rebuilt.state);

    let trail = eventually("the lifecycle in the audit trail", WAIT, || async {
        let trail = suite.trail(id).await;
        let complaint_events = trail.iter().filter(|e| e.aggregate_type == "Complaint");
        (complaint_events.count() >= LIFECYCLE.len()).then_some(trail)
    })
    .await;
    once_each("the trail", trail.iter().map(|e| e.event_id));
    let in_trail: Vec<_> = trail
        .iter()
        .filter(|e| e.aggregate_type == "Complaint")
        .map(|e| e.event_id)
        .collect();
    let in_stream: Vec<_> = stream.iter().map(|e| e.envelope.event_id).collect();
    assert_eq!(
        in_trail, in_stream,
        "the trail holds each event of the stream once, in order"
    );
}

/// Checks that, for each command, the event store and the audit trail hold the same events
/// (the command's own and what it led to in the other services: at least one
/// NOTIFICATION_SENT per notification the history shows), each once.
pub async fn check_logs_agree(suite: &Suite, commands: &[Accepted], history: &[Notification]) {
    for (command, event_type) in commands.iter().zip(LIFECYCLE) {
        let cid = command.correlation_id.as_str();
        let notified = history
            .iter()
            .filter(|n| n.triggering_event_type == event_type && n.status == "SENT")
            .count();
        let (logged, audited) = eventually(
            &format!("the event store and the audit trail to agree on {cid} ({event_type})"),
            WAIT,
            || async move {
                let logged = suite.logged_with_correlation(cid).await;
                let audited = suite.audited_with_correlation(cid).await;
                let types = event_types(&logged);
                let sent = types.iter().filter(|t| **t == "NOTIFICATION_SENT").count();
                (types.contains(&event_type)
                    && sent >= notified
                    && logged_ids(&logged) == audited_ids(&audited))
                .then_some((logged, audited))
            },
        )
        .await;
        once_each(
            "the event store",
            logged.iter().map(|e| e.envelope.event_id),
        );
        once_each("the audit trail", audited.iter().map(|e| e.event_id));
    }
}

#[tokio::test]
async fn a_complaint_lifecycle_reaches_the_event_store_the_audit_trail_and_the_notifications() {
    let suite = Suite::start().await;
    let agent = an_agent(&suite).await;
    let title = "Charged twice for order 1001";

    let commands = run_lifecycle(&suite, title, &agent).await;
    let id = commands[0].complaint_id.clone();

    check_events_everywhere(&suite, &commands).await;

    let history = suite
        .history_when("the lifecycle's notifications to be sent", &id, |h| {
            lifecycle_notifications_sent(h)
        })
        .await;
    let to_assignee: Vec<_> = history
        .iter()
        .filter(|n| n.audience == "assignee")
        .collect();
    assert_eq!(to_assignee.len(), 1, "{history:#?}");
    assert_eq!(to_assignee[0].recipient, agent.email);
    assert_eq!(to_assignee[0].agent_id.as_deref(), Some(agent.id.as_str()));
    let triggers: BTreeSet<_> = history
        .iter()
        .map(|n| {
            (
                n.triggering_event_id,
                n.audience.clone(),
                n.recipient.clone(),
            )
        })
        .collect();
    assert_eq!(
        triggers.len(),
        history.len(),
        "one notification per event and recipient"
    );

    let to_agent = suite.mails_to(&agent.email, 1).await;
    assert!(to_agent[0].subject.contains(title), "{to_agent:?}");
    let to_complainant = suite.mails_to(COMPLAINANT, history.len() - 1).await;
    for sent in history.iter().filter(|n| n.status == "SENT") {
        let mails = suite
            .smtp
            .received()
            .into_iter()
            .filter(|m| m.is_for(&sent.id.to_string()))
            .count();
        assert_eq!(mails, 1, "one mail for notification {sent:?}");
    }
    assert!(to_complainant.iter().any(|m| m.subject.contains(title)));

    let acknowledgement = suite
        .saga_reaches(&id, "ACKNOWLEDGEMENT", "COMPLETED")
        .await;
    assert_eq!(acknowledgement.complaint_id, id);
    assert!(
        !acknowledgement.steps.is_empty()
            && acknowledgement
                .steps
                .iter()
                .all(|s| s.status == "COMPLETED"),
        "{acknowledgement:#?}"
    );
    let assignment = suite.saga_reaches(&id, "ASSIGNMENT", "COMPLETED").await;
    assert_eq!(
        suite.saga(&assignment.saga_id).await.status,
        "COMPLETED",
        "the saga is also found by its id"
    );

    check_logs_agree(&suite, &commands, &history).await;
    suite.stop().await;
}
