//! A consumer service stopped in the middle of a complaint's life: what it missed waits in
//! its queue, and once started again it catches up, with nothing lost and nothing doubled.

use crate::{
    api::complaints::COMPLAINANT,
    expect::once_each,
    lifecycle::{
        an_agent, check_events_everywhere, check_logs_agree, lifecycle_notifications_sent,
    },
    suite::{Suite, WAIT},
};
use shared::test_support::eventually;
use std::collections::BTreeSet;

#[tokio::test]
async fn a_consumer_service_stopped_during_the_flow_catches_up_with_nothing_lost_or_doubled() {
    let mut suite = Suite::start().await;
    let agent = an_agent(&suite).await;
    let title = "Router replaced twice, still no line";

    let created = suite
        .create_complaint(crate::api::complaints::new_complaint(title, "HIGH"))
        .await;
    let id = created.complaint_id.clone();
    suite.audit.stop().await;
    suite.notifications.stop().await;

    let mut commands = vec![created];
    commands.push(suite.assign(&id, &agent.id).await);
    commands.push(suite.process(&id).await);
    commands.push(suite.resolve(&id, "Line repaired at the exchange").await);
    commands.push(suite.close(&id).await);

    // The four later events (at least) wait in each stopped service's queue.
    for queue in [audit_service::consumer::QUEUE, notification_service::QUEUE] {
        let suite = &suite;
        eventually(
            &format!("messages waiting in {queue}"),
            WAIT,
            || async move { (suite.queue_depth(queue).await >= 4).then_some(()) },
        )
        .await;
    }

    suite.audit.start().await;
    suite.notifications.start().await;

    check_events_everywhere(&suite, &commands).await;
    let history = suite
        .history_when("the missed notifications to be sent", &id, |h| {
            lifecycle_notifications_sent(h)
        })
        .await;
    once_each("the history", history.iter().map(|n| n.id));
    let triggers: BTreeSet<_> = history
        .iter()
        .map(|n| (n.triggering_event_id, n.recipient.clone()))
        .collect();
    assert_eq!(
        triggers.len(),
        history.len(),
        "one notification per event and recipient: {history:#?}"
    );

    // The sagas waited for the answers instead of failing.
    suite
        .saga_reaches(&id, "ACKNOWLEDGEMENT", "COMPLETED")
        .await;
    suite.saga_reaches(&id, "ASSIGNMENT", "COMPLETED").await;

    // Each notification sent reached the SMTP server exactly once.
    suite.mails_to(&agent.email, 1).await;
    let sent: Vec<_> = history.iter().filter(|n| n.status == "SENT").collect();
    suite.mails_to(COMPLAINANT, sent.len() - 1).await;
    for notification in &sent {
        let id = notification.id.to_string();
        let mails = suite
            .smtp
            .received()
            .iter()
            .filter(|m| m.is_for(&id))
            .count();
        assert_eq!(mails, 1, "one mail for {notification:?}");
    }
    assert_eq!(suite.smtp.received_by(&agent.email).len(), 1);
    assert_eq!(suite.smtp.received_by(COMPLAINANT).len(), sent.len() - 1);

    check_logs_agree(&suite, &commands, &history).await;
    suite.stop().await;
}
