//! The property itself: once a history has settled, the three views of each complaint agree.
//! - the read model equals the read model rebuilt from scratch;
//! - the read model equals the state the event store rebuilds from the stream;
//! - the stream holds versions 1..n once each, and each accepted command's event at the
//!   version its reply gave;
//! - the audit trail holds each event of the stream once, and its hash chain is intact.

use super::drive::{Filed, Transcript};
use crate::{
    expect::{self, once_each},
    suite::{Suite, WAIT},
};
use shared::test_support::eventually;
use std::{collections::BTreeSet, fmt::Write};

/// What the assignment saga records on a complaint when it compensates an assignment; every
/// other event of a stream is a command of the history.
const BY_THE_SAGA: [&str; 2] = [
    "COMPLAINT_COMPENSATION_REQUIRED",
    "COMPLAINT_ASSIGNMENT_REVERTED",
];

/// Waits for the history to settle, then checks every view of every complaint it filed.
pub async fn agree(suite: &Suite, transcript: &Transcript) {
    settle(suite, transcript).await;
    for filed in &transcript.complaints {
        one_complaint_agrees(suite, filed).await;
    }
    read_model_survives_a_rebuild(suite, transcript).await;
    let verification = suite.verify_chain().await;
    assert!(
        verification.valid && verification.first_broken_at.is_none(),
        "the audit chain is intact: {verification:?}"
    );
}

/// Settled: every saga the history started has finished (the sagas are what still changes a
/// complaint after its commands were answered), and the read model has caught up.
async fn settle(suite: &Suite, transcript: &Transcript) {
    eventually("every saga of the history to finish", WAIT, || async {
        for filed in &transcript.complaints {
            let sagas = suite.sagas(&filed.id).await;
            // One acknowledgement, and one saga per accepted assignment.
            let started = 1 + filed.assignments();
            let finished = sagas
                .iter()
                .filter(|s| matches!(s.status.as_str(), "COMPLETED" | "FAILED" | "COMPENSATED"))
                .count();
            if sagas.len() < started || finished < sagas.len() {
                return None;
            }
        }
        Some(())
    })
    .await;
    suite.read_model_settled().await;
}

async fn one_complaint_agrees(suite: &Suite, filed: &Filed) {
    let id = &filed.id;
    let read_model = suite
        .complaint(id)
        .await
        .unwrap_or_else(|| panic!("complaint {id} is in the read model"));
    let n = read_model.version;

    let stream = suite.stream_at(id, n).await;
    let versions: Vec<i64> = stream.iter().map(|e| e.envelope.metadata.version).collect();
    assert_eq!(
        versions,
        (1..=n).collect::<Vec<_>>(),
        "{id}: the event store holds versions 1..{n} once each, in order"
    );
    once_each("the stream", stream.iter().map(|e| e.envelope.event_id));
    for (version, event_type) in &filed.accepted {
        let recorded = stream
            .get((*version - 1) as usize)
            .map(|e| e.envelope.event_type.as_str());
        assert_eq!(
            recorded,
            Some(*event_type),
            "{id}: version {version} is the event its command's reply announced"
        );
    }
    let by_saga = stream
        .iter()
        .filter(|e| BY_THE_SAGA.contains(&e.envelope.event_type.as_str()))
        .count();
    assert_eq!(
        filed.accepted.len() + by_saga,
        stream.len(),
        "{id}: the stream holds the accepted commands and the compensations, nothing refused"
    );

    let rebuilt = suite.rebuilt_state(id).await;
    assert_eq!(
        (rebuilt.version, rebuilt.event_count),
        (n, n as usize),
        "{id}: the event store rebuilds it from {n} events"
    );
    expect::same_complaint(&read_model, &rebuilt.state);

    let trail = eventually(
        &format!("the {n} events of {id} in the audit trail"),
        WAIT,
        || async {
            let trail = suite.trail(id).await;
            let recorded = trail.iter().filter(|e| e.aggregate_type == "Complaint");
            (recorded.count() >= n as usize).then_some(trail)
        },
    )
    .await;
    once_each("the trail", trail.iter().map(|e| e.event_id));
    let audited: BTreeSet<_> = trail
        .iter()
        .filter(|e| e.aggregate_type == "Complaint")
        .map(|e| e.event_id)
        .collect();
    let logged: BTreeSet<_> = stream.iter().map(|e| e.envelope.event_id).collect();
    assert_eq!(
        audited, logged,
        "{id}: the audit trail holds each event of the stream"
    );
}

/// The live read model of every complaint equals the one replayed from the events.
async fn read_model_survives_a_rebuild(suite: &Suite, transcript: &Transcript) {
    let mut live = Vec::new();
    for filed in &transcript.complaints {
        live.push(suite.complaint_json(&filed.id).await);
    }
    suite.rebuild_read_model().await;
    for (filed, before) in transcript.complaints.iter().zip(&live) {
        let after = suite.complaint_json(&filed.id).await;
        assert_eq!(
            &after, before,
            "{}: the read model rebuilt from scratch equals the live one",
            filed.id
        );
    }
}

/// Each complaint as every view has it now, for a failure's message.
pub async fn describe(suite: &Suite, transcript: &Transcript) -> String {
    let mut text = String::from("the views now:\n");
    for filed in &transcript.complaints {
        let id = &filed.id;
        let read_model = suite.complaint(id).await;
        let stream = suite.stream(id).await;
        let trail = suite.trail(id).await;
        let sagas = suite.sagas(id).await;
        let _ = writeln!(
            text,
            "  {id}\n    read model: {:?}\n    stream: {:?}\n    trail: {:?}\n    sagas: {:?}",
            read_model.map(|c| (c.version, c.status, c.assignee)),
            expect::event_types(&stream),
            trail
                .iter()
                .map(|e| e.event_type.as_str())
                .collect::<Vec<_>>(),
            sagas
                .iter()
                .map(|s| (s.kind.as_str(), s.status.as_str()))
                .collect::<Vec<_>>(),
        );
    }
    text
}
