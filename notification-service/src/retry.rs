//! What happens to a notification after a delivery attempt: sent, tried again later (the
//! backoff lives in the row, so it survives restarts), or failed for good. Pure. The schedule
//! is the shared [`RetryPolicy`], the one the consumers' delay queues follow.

use crate::delivery::SendError;
use chrono::{DateTime, TimeDelta, Utc};
use shared::backoff::RetryPolicy;

shared::wire_enum!(
    /// Why a notification failed for good, as a bounded metrics label.
    FailureKind, "snake_case" {
        /// The assignee is not in the directory, or inactive.
        UnknownAgent => "unknown_agent",
        /// The recipient's address cannot be used.
        InvalidAddress => "invalid_address",
        /// The mail server refused it for good (5xx).
        Rejected => "rejected",
        /// Transient failures, attempt after attempt.
        RetriesExhausted => "retries_exhausted",
    }
);

/// The fate of a notification after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Sent,
    RetryAt { at: DateTime<Utc>, error: String },
    Failed { kind: FailureKind, reason: String },
}

/// What follows attempt number `attempt` (1 for the first) that ended in `outcome`, under
/// `policy`.
pub fn after_attempt(
    policy: &RetryPolicy,
    attempt: u32,
    outcome: Result<(), SendError>,
    now: DateTime<Utc>,
) -> Next {
    match outcome {
        Ok(()) => Next::Sent,
        Err(SendError::Permanent(reason)) => Next::Failed {
            kind: FailureKind::Rejected,
            reason,
        },
        Err(SendError::InvalidAddress(reason)) => Next::Failed {
            kind: FailureKind::InvalidAddress,
            reason,
        },
        Err(SendError::Transient(error)) if attempt >= policy.max_attempts => Next::Failed {
            kind: FailureKind::RetriesExhausted,
            reason: format!("retries exhausted after {attempt} attempts: {error}"),
        },
        Err(SendError::Transient(error)) => {
            let wait = TimeDelta::from_std(policy.delay(attempt)).unwrap_or(TimeDelta::MAX);
            Next::RetryAt {
                at: now
                    .checked_add_signed(wait)
                    .unwrap_or(DateTime::<Utc>::MAX_UTC),
                error,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2024-05-01T10:00:00Z".parse().unwrap()
    }

    fn transient() -> Result<(), SendError> {
        Err(SendError::Transient("451 try later".into()))
    }

    #[test]
    fn the_default_wait_doubles_from_one_second_up_to_a_minute() {
        let policy = RetryPolicy::default();
        let waits: Vec<u64> = (1..=8).map(|n| policy.delay(n).as_secs()).collect();
        assert_eq!(waits, vec![1, 2, 4, 8, 16, 32, 60, 60]);
    }

    #[test]
    fn a_transient_failure_is_tried_again_after_the_backoff() {
        let policy = RetryPolicy::default();
        assert_eq!(
            after_attempt(&policy, 2, transient(), now()),
            Next::RetryAt {
                at: now() + TimeDelta::seconds(2),
                error: "451 try later".into()
            }
        );
    }

    #[test]
    fn a_transient_failure_on_the_last_attempt_fails_for_good() {
        let policy = RetryPolicy::default();
        let Next::Failed { kind, reason } = after_attempt(&policy, 5, transient(), now()) else {
            panic!("expected a failure");
        };
        assert_eq!(kind, FailureKind::RetriesExhausted);
        assert!(reason.contains("after 5 attempts"), "{reason}");
    }

    #[test]
    fn a_permanent_failure_fails_at_once() {
        let next = after_attempt(
            &RetryPolicy::default(),
            1,
            Err(SendError::Permanent("550 unknown user".into())),
            now(),
        );
        assert_eq!(
            next,
            Next::Failed {
                kind: FailureKind::Rejected,
                reason: "550 unknown user".into()
            }
        );
    }

    #[test]
    fn success_is_sent() {
        assert_eq!(
            after_attempt(&RetryPolicy::default(), 3, Ok(()), now()),
            Next::Sent
        );
    }
}
