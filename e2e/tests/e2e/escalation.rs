//! The SLA escalation saga: a complaint still unresolved at its deadline is escalated by
//! complaint-service's durable timer, and the supervisors hear of it.

use crate::{
    api::{complaints::new_complaint, notifications::Agent},
    expect::event_types,
    suite::{Suite, CRITICAL_SLA},
};
use shared::complaint::Priority;

async fn supervisors(suite: &Suite) -> Vec<Agent> {
    let supervisors: Vec<Agent> = suite
        .agents()
        .await
        .into_iter()
        .filter(|a| a.role == "SUPERVISOR" && a.active)
        .collect();
    assert!(!supervisors.is_empty(), "the directory has supervisors");
    supervisors
}

/// Checks what an escalation leaves everywhere: the complaint at escalation level 1 or more,
/// COMPLAINT_ESCALATED as its second event, an escalation saga, every supervisor notified.
async fn check_escalated(suite: &Suite, id: &str) {
    let escalated = suite
        .complaint_when("the complaint to be escalated", id, |c| {
            c.escalation_level >= 1
        })
        .await;
    assert_eq!(
        escalated.priority,
        Priority::Critical,
        "CRITICAL stays CRITICAL"
    );

    let stream = suite.stream_at(id, 2).await;
    assert_eq!(
        event_types(&stream[..2]),
        ["COMPLAINT_CREATED", "COMPLAINT_ESCALATED"]
    );
    let escalation = &stream[1].envelope;
    assert_eq!(escalation.event_data["escalationLevel"], 1);
    assert_eq!(escalation.metadata.version, 2);
    assert!(
        escalation.metadata.timestamp >= stream[0].envelope.metadata.timestamp + CRITICAL_SLA,
        "not before the deadline"
    );
    let rebuilt = suite.rebuilt_state(id).await;
    assert!(rebuilt.state.escalation_level >= 1);

    let sagas = suite.sagas(id).await;
    assert!(
        sagas.iter().any(|s| s.kind == "ESCALATION"),
        "an escalation saga: {sagas:#?}"
    );
    suite.saga_reaches(id, "ESCALATION", "COMPLETED").await;

    for supervisor in supervisors(suite).await {
        let history = suite
            .history_when(&format!("{} to be told", supervisor.id), id, |h| {
                h.iter().any(|n| {
                    n.is("escalation", "supervisor", "SENT") && n.recipient == supervisor.email
                })
            })
            .await;
        let told = history
            .iter()
            .find(|n| n.is("escalation", "supervisor", "SENT") && n.recipient == supervisor.email)
            .expect("the supervisor's notification");
        assert_eq!(told.triggering_event_type, "COMPLAINT_ESCALATED");
        let mails = suite.mails_to(&supervisor.email, 1).await;
        assert!(mails.iter().any(|m| m.is_for(&told.id.to_string())));
    }
}

#[tokio::test]
async fn an_sla_deadline_escalates_the_complaint() {
    let suite = Suite::start().await;
    let created = suite
        .create_complaint(new_complaint("Gas leak reported, nobody came", "CRITICAL"))
        .await;
    check_escalated(&suite, &created.complaint_id).await;
    suite.stop().await;
}

#[tokio::test]
async fn a_deadline_that_passes_while_complaint_service_is_down_escalates_when_it_is_back() {
    let mut suite = Suite::start().await;
    let created = suite
        .create_complaint(new_complaint("Water cut for three days", "CRITICAL"))
        .await;
    suite.complaints.stop().await;
    // Downtime spanning the deadline: the timer is in PostgreSQL, not in the stopped process.
    tokio::time::sleep(CRITICAL_SLA + CRITICAL_SLA).await;
    suite.complaints.start().await;
    check_escalated(&suite, &created.complaint_id).await;
    suite.stop().await;
}
