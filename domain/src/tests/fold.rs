//! The one fold's rules for what a stream holds besides the events this build knows: events
//! of unknown types, replays, and events that cannot be read.

use super::*;

/// A stream event at `version`, recorded `version` hours after t0.
fn at_version(version: i64, event: Option<ComplaintEvent>) -> Result<Recorded, String> {
    Ok(Recorded {
        version,
        at: hours(version),
        event,
    })
}

/// An event of a type this build does not know (a newer version of the suite wrote it).
fn unknown(version: i64) -> Result<Recorded, String> {
    at_version(version, None)
}

fn fold(stream: Vec<Result<Recorded, String>>) -> Result<Complaint, String> {
    Complaint::empty(ID).fold(stream)
}

#[test]
fn a_stream_folds_into_the_state_evolve_gives() {
    let state = fold(vec![
        at_version(1, Some(created())),
        at_version(2, Some(assigned("a1"))),
    ])
    .unwrap();
    let mut expected = given(&[created(), assigned("a1")]);
    expected.updated_at = Some(hours(2));
    expected.created_at = Some(hours(1));
    expected.sla_started_at = Some(hours(1));
    assert_eq!(state, expected);
    assert_eq!(state.version, 2);
}

#[test]
fn an_unknown_event_counts_for_the_version_and_changes_nothing_else() {
    let before = fold(vec![at_version(1, Some(created()))]).unwrap();
    let after = fold(vec![at_version(1, Some(created())), unknown(2)]).unwrap();
    assert_eq!(after.version, 2);
    assert_eq!(
        Complaint {
            version: 1,
            ..after.clone()
        },
        before,
        "not even updatedAt moves"
    );
}

#[test]
fn after_an_unknown_event_the_stream_goes_on_from_its_version() {
    let state = fold(vec![
        at_version(1, Some(created())),
        unknown(2),
        at_version(3, Some(assigned("a1"))),
    ])
    .unwrap();
    assert_eq!(state.version, 3);
    assert_eq!(state.status, Status::Assigned);
    // What the next command decides is appended at version 4, after the unknown event.
    let events = when(&state, process(), hours(4)).unwrap();
    assert_eq!(events, [processed("a1")]);
}

#[test]
fn an_event_already_folded_in_changes_nothing() {
    let state = fold(vec![
        at_version(1, Some(created())),
        at_version(2, Some(assigned("a1"))),
    ])
    .unwrap();
    assert!(state.has_applied(2) && state.has_applied(1) && !state.has_applied(3));
    let replayed = state
        .clone()
        .apply(&at_version(1, Some(created())).unwrap());
    assert_eq!(replayed, state);
    let redelivered = state.clone().apply(&at_version(2, Some(closed())).unwrap());
    assert_eq!(redelivered, state);
}

#[test]
fn the_version_is_the_streams_not_a_count_of_what_was_shown() {
    // A reader shown only some of the stream (the tail after a snapshot, a queue that
    // carries only complaint events) still says the stream's version.
    let state = fold(vec![
        at_version(1, Some(created())),
        at_version(5, Some(assigned("a1"))),
    ])
    .unwrap();
    assert_eq!(state.version, 5);
}

#[test]
fn an_event_that_cannot_be_read_stops_the_fold() {
    let error = fold(vec![
        at_version(1, Some(created())),
        Err("COMPLAINT_ASSIGNED data has no agentId".to_owned()),
        at_version(3, Some(assigned("a1"))),
    ])
    .unwrap_err();
    assert_eq!(error, "COMPLAINT_ASSIGNED data has no agentId");
}
