//! The assignment saga's compensation, seen from every service: an assignee nobody can
//! notify is unassigned again, and each service records its part of the undoing.

use crate::{
    api::complaints::{new_complaint, COMPLAINANT},
    expect::event_types,
    suite::{Suite, WAIT},
};
use shared::{complaint::Status, test_support::eventually};

const UNKNOWN_AGENT: &str = "agent-does-not-exist";

/// What the compensation leaves in the global log, whichever service published it.
const COMPENSATION: [&str; 6] = [
    "COMPLAINT_ASSIGNED",
    "NOTIFICATION_FAILED",
    "COMPLAINT_COMPENSATION_REQUIRED",
    "COMPLAINT_ASSIGNMENT_REVERTED",
    "NOTIFICATION_COMPENSATION",
    "AUDIT_COMPENSATION",
];

#[tokio::test]
async fn assigning_an_unknown_agent_is_compensated_everywhere() {
    let suite = Suite::start().await;
    let created = suite
        .create_complaint(new_complaint("Parcel never arrived", "MEDIUM"))
        .await;
    let id = created.complaint_id.clone();

    let assigned = suite.assign(&id, UNKNOWN_AGENT).await;
    assert_eq!(assigned.version, 2);

    // complaint-service: back to OPEN, nobody assigned, the saga compensated.
    let reverted = suite
        .complaint_when("the assignment to be reverted", &id, |c| {
            c.version >= 4 && c.status == Status::Open
        })
        .await;
    assert_eq!(reverted.assignee, None);
    let saga = suite.saga_reaches(&id, "ASSIGNMENT", "COMPENSATED").await;
    assert_eq!(suite.saga(&saga.saga_id).await.status, "COMPENSATED");

    // event-store-service: every step of the compensation, from every service, in the log.
    let cid = assigned.correlation_id.as_str();
    let logged = suite.logged_all_of(cid, &COMPENSATION).await;
    let types = event_types(&logged);
    let position = |t: &str| types.iter().position(|x| *x == t).expect(t);
    assert!(
        position("NOTIFICATION_FAILED") < position("COMPLAINT_COMPENSATION_REQUIRED")
            && position("COMPLAINT_COMPENSATION_REQUIRED")
                < position("COMPLAINT_ASSIGNMENT_REVERTED"),
        "the log has the compensation in causal order: {types:?}"
    );
    let failed = &logged[position("NOTIFICATION_FAILED")].envelope;
    assert_eq!(failed.event_data["agentId"], UNKNOWN_AGENT);
    let stream = suite.stream_at(&id, 4).await;
    assert_eq!(
        event_types(&stream),
        [
            "COMPLAINT_CREATED",
            "COMPLAINT_ASSIGNED",
            "COMPLAINT_COMPENSATION_REQUIRED",
            "COMPLAINT_ASSIGNMENT_REVERTED",
        ]
    );
    let rebuilt = suite.rebuilt_state(&id).await.state;
    assert_eq!(rebuilt.status, Status::Open);
    assert_eq!(rebuilt.assignee, None);

    // audit-service: the failed step's entries marked compensated, its own part recorded.
    let assignment = stream[1].envelope.event_id;
    let trail = eventually(
        "the assignment marked compensated in the trail",
        WAIT,
        || async {
            let trail = suite.trail(&id).await;
            trail
                .iter()
                .any(|e| e.event_id == assignment && e.compensated)
                .then_some(trail)
        },
    )
    .await;
    let compensation_required = trail
        .iter()
        .find(|e| e.event_type == "COMPLAINT_COMPENSATION_REQUIRED")
        .expect("the compensation request is in the trail");
    assert!(
        !compensation_required.compensated,
        "the compensation itself stands"
    );
    let audited = suite.audited_with_correlation(cid).await;
    assert!(
        audited.iter().any(|e| e.event_type == "AUDIT_COMPENSATION"),
        "{audited:#?}"
    );
    assert!(audited
        .iter()
        .any(|e| e.event_type == "NOTIFICATION_FAILED" && e.compensated));

    // notification-service: the assignee could not be told; what the complainant was told
    // is withdrawn.
    let history = suite
        .history_when("the assignment notifications to be undone", &id, |h| {
            h.iter().any(|n| n.is("assignment", "assignee", "FAILED"))
                && h.iter().any(|n| {
                    n.step == "assignment"
                        && n.audience == "complainant"
                        && (n.status == "CANCELLED" || n.retracted_at.is_some())
                })
        })
        .await;
    let to_assignee = history
        .iter()
        .find(|n| n.audience == "assignee")
        .expect("the assignee's notification");
    assert_eq!(to_assignee.failure_reason.as_deref(), Some("unknown agent"));
    assert!(suite.smtp.received_by(UNKNOWN_AGENT).is_empty());
    suite.mails_to(COMPLAINANT, 1).await;
    suite.stop().await;
}
