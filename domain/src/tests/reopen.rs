//! Reopening within the policy's window.

use super::*;

fn resolved_on_day_2() -> Complaint {
    given_at(&[
        (created(), t0()),
        (assigned("a1"), hours(1)),
        (processed("a1"), hours(2)),
        (resolved("a1"), days(2)),
    ])
}

#[test]
fn a_resolved_complaint_reopens_to_its_assignee_with_a_fresh_sla() {
    let state = after(resolved_on_day_2(), reopen(), days(31));
    assert_eq!(state.status, Status::Assigned);
    assert_eq!(state.assignee, Some(agent("a1")));
    assert_eq!(state.reopen_count, 1);
    assert_eq!(state.resolution, None);
    assert_eq!(state.resolved_at, None);
    assert_eq!(state.sla_started_at, Some(days(31)));
    assert_eq!(state.sla_deadline, Some(days(31) + TimeDelta::hours(72)));
}

#[test]
fn the_window_ends_30_days_after_resolution() {
    let state = resolved_on_day_2();
    assert!(
        when(&state, reopen(), days(32)).is_ok(),
        "the last instant is inside"
    );
    let error = when(&state, reopen(), days(32) + TimeDelta::seconds(1)).unwrap_err();
    assert_eq!(
        error,
        DomainError::ReopenWindowExpired {
            window_ended_at: days(32)
        }
    );
    assert_eq!(error.code(), "REOPEN_WINDOW_EXPIRED");
}

#[test]
fn for_a_closed_complaint_the_window_counts_from_closing() {
    let state = given_at(&[
        (created(), t0()),
        (assigned("a1"), t0()),
        (processed("a1"), t0()),
        (resolved("a1"), days(2)),
        (closed(), days(10)),
    ]);
    let state = after(state, reopen(), days(40));
    assert_eq!(state.status, Status::Assigned);
    assert_eq!(state.closed_at, None);
    assert!(when(
        &given_at(&[
            (created(), t0()),
            (resolved("a1"), t0()),
            (closed(), days(10))
        ]),
        reopen(),
        days(41)
    )
    .is_err());
}

#[test]
fn the_window_is_configurable() {
    let policy = Policy {
        reopen_window: TimeDelta::days(1),
        ..Policy::default()
    };
    let state = resolved_on_day_2();
    assert!(decide(&state, reopen(), &policy, days(3)).is_ok());
    assert!(decide(&state, reopen(), &policy, days(4)).is_err());
}
