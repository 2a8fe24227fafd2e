//! How long a transiently failing piece of work waits before its next attempt, and when to
//! give up: a message on its way to a delay queue, a notification's next delivery.
//!
//! Pure arithmetic, so the schedule is unit-tested apart from the broker or the table that
//! enforces it.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Exponential backoff: `initial`, doubling on every retry, capped at `max`, for at most
/// `max_attempts` attempts in all (the first try included); then the work fails for good (a
/// message is dead-lettered, a notification marked failed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetryPolicy {
    /// The wait after the first failed attempt; it doubles after each one.
    #[serde(with = "crate::config::millis")]
    pub initial: Duration,
    /// The longest wait between two attempts.
    #[serde(with = "crate::config::millis")]
    pub max: Duration,
    /// Attempts in all, the first included; a transient failure on the last one is final.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    /// 1 s doubling to 60 s, 5 attempts, as DESIGN.md asks.
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
            max_attempts: 5,
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 for the first retry), that is after `retry`
    /// failed attempts: 1 s, 2 s, 4 s, … up to `max`.
    pub fn delay(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        self.initial.saturating_mul(factor).min(self.max)
    }

    /// What to do with work that has now failed `attempts` times.
    pub fn after_failure(&self, attempts: u32) -> NextStep {
        if attempts >= self.max_attempts {
            NextStep::DeadLetter
        } else {
            NextStep::RetryAfter(self.delay(attempts))
        }
    }

    /// Every distinct delay the policy can ask for, in order: one delay queue each.
    pub fn distinct_delays(&self) -> Vec<Duration> {
        let mut delays: Vec<Duration> = (1..self.max_attempts).map(|r| self.delay(r)).collect();
        delays.dedup();
        delays
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextStep {
    RetryAfter(Duration),
    DeadLetter,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_doubles_from_one_second() {
        let policy = RetryPolicy::default();
        let delays: Vec<u64> = (1..=4).map(|r| policy.delay(r).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8]);
    }

    #[test]
    fn a_huge_retry_count_waits_the_maximum_without_overflowing() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay(u32::MAX), policy.max);
    }

    #[test]
    fn delays_are_capped_at_the_maximum() {
        let policy = RetryPolicy {
            max_attempts: 10,
            ..RetryPolicy::default()
        };
        assert_eq!(policy.delay(7), Duration::from_secs(60));
        assert_eq!(policy.delay(40), Duration::from_secs(60));
    }

    #[test]
    fn the_fifth_failure_dead_letters() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.after_failure(4),
            NextStep::RetryAfter(Duration::from_secs(8))
        );
        assert_eq!(policy.after_failure(5), NextStep::DeadLetter);
    }

    #[test]
    fn one_delay_queue_per_distinct_delay() {
        let policy = RetryPolicy {
            initial: Duration::from_secs(20),
            max: Duration::from_secs(60),
            max_attempts: 6,
        };
        let secs: Vec<u64> = policy
            .distinct_delays()
            .iter()
            .map(|d| d.as_secs())
            .collect();
        assert_eq!(secs, [20, 40, 60]);
    }

    #[test]
    fn a_single_attempt_policy_never_retries() {
        let policy = RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        };
        assert!(policy.distinct_delays().is_empty());
        assert_eq!(policy.after_failure(1), NextStep::DeadLetter);
    }
}
