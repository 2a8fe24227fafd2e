//! A circuit breaker for the mail server, pure: the caller passes the time in.
//!
//! Closed, it lets every delivery through and watches the outcomes: after
//! `consecutive_failures` transient failures in a row, or a share of failures over
//! `failure_rate` among at least `min_calls` deliveries of the last `window`, it opens. Open,
//! it lets nothing through for `open_for`; then it is half-open and lets one probe through: a
//! success closes it, a failure opens it again for another `open_for`. Only the edges of an
//! episode are reported ([`Change`]): opened from closed, closed again; a failed probe is the
//! same episode.

use serde::{Deserialize, Serialize};
use std::{
    collections::VecDeque,
    time::{Duration, Instant},
};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BreakerSettings {
    /// Opens after this many transient failures in a row.
    pub consecutive_failures: u32,
    /// Opens when more than this share (0..=1) of the window's deliveries failed…
    pub failure_rate: f64,
    /// …and the window holds at least this many.
    pub min_calls: u32,
    #[serde(with = "shared::config::millis")]
    pub window: Duration,
    /// How long it stays open before a probe.
    #[serde(with = "shared::config::millis")]
    pub open_for: Duration,
}

impl Default for BreakerSettings {
    fn default() -> Self {
        Self {
            consecutive_failures: 5,
            failure_rate: 0.5,
            min_calls: 20,
            window: Duration::from_secs(60),
            open_for: Duration::from_secs(30),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Closed,
    Open { until: Instant },
    HalfOpen,
}

impl State {
    /// For `/ready`, logs and monitoring events.
    pub fn name(self) -> &'static str {
        match self {
            Self::Closed => "CLOSED",
            Self::Open { .. } => "OPEN",
            Self::HalfOpen => "HALF_OPEN",
        }
    }

    /// The gauge value: 0 closed, 1 half-open, 2 open.
    pub fn level(self) -> f64 {
        match self {
            Self::Closed => 0.0,
            Self::HalfOpen => 1.0,
            Self::Open { .. } => 2.0,
        }
    }
}

/// What the breaker allows now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permit {
    /// Deliver as usual.
    Deliver,
    /// Deliver one message only, to test the server.
    Probe,
    /// Deliver nothing before this long.
    Wait(Duration),
}

/// The edge of an episode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Opened { reason: String },
    Closed { after: Duration },
}

#[derive(Debug)]
pub struct CircuitBreaker {
    settings: BreakerSettings,
    state: State,
    consecutive: u32,
    /// Outcomes of the window: (when, failed).
    recent: VecDeque<(Instant, bool)>,
    opened_at: Option<Instant>,
}

impl CircuitBreaker {
    pub fn new(settings: BreakerSettings) -> Self {
        Self {
            settings,
            state: State::Closed,
            consecutive: 0,
            recent: VecDeque::new(),
            opened_at: None,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// What may be delivered at `now`; an open circuit whose time is up becomes half-open.
    pub fn permit(&mut self, now: Instant) -> Permit {
        match self.state {
            State::Closed => Permit::Deliver,
            State::HalfOpen => Permit::Probe,
            State::Open { until } if now >= until => {
                self.state = State::HalfOpen;
                Permit::Probe
            }
            State::Open { until } => Permit::Wait(until - now),
        }
    }

    /// Records one delivery's outcome: `failed` for a transient failure (the server is
    /// unreachable or refuses for now); a message refused for good is a server that answers.
    pub fn record(&mut self, failed: bool, now: Instant) -> Option<Change> {
        match self.state {
            // Outcomes of deliveries started before it opened say nothing new.
            State::Open { .. } => None,
            State::HalfOpen if failed => {
                self.reopen(now);
                None
            }
            State::HalfOpen => {
                let after = self.opened_at.map_or(Duration::ZERO, |at| now - at);
                self.state = State::Closed;
                self.consecutive = 0;
                self.recent.clear();
                self.opened_at = None;
                Some(Change::Closed { after })
            }
            State::Closed => {
                self.consecutive = if failed { self.consecutive + 1 } else { 0 };
                self.recent.push_back((now, failed));
                while self
                    .recent
                    .front()
                    .is_some_and(|(at, _)| now.duration_since(*at) > self.settings.window)
                {
                    self.recent.pop_front();
                }
                let reason = self.trip_reason()?;
                self.opened_at = Some(now);
                self.reopen(now);
                Some(Change::Opened { reason })
            }
        }
    }

    fn reopen(&mut self, now: Instant) {
        self.state = State::Open {
            until: now + self.settings.open_for,
        };
    }

    fn trip_reason(&self) -> Option<String> {
        let limit = self.settings.consecutive_failures.max(1);
        if self.consecutive >= limit {
            return Some(format!("{} transient failures in a row", self.consecutive));
        }
        let calls = self.recent.len();
        let failures = self.recent.iter().filter(|(_, failed)| *failed).count();
        let rate = failures as f64 / calls.max(1) as f64;
        (calls >= self.settings.min_calls as usize && rate > self.settings.failure_rate).then(
            || {
                format!(
                    "{failures} of the last {calls} deliveries failed within {:?}",
                    self.settings.window
                )
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> BreakerSettings {
        BreakerSettings {
            consecutive_failures: 3,
            failure_rate: 0.5,
            min_calls: 10,
            window: Duration::from_secs(60),
            open_for: Duration::from_secs(30),
        }
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn it_opens_after_consecutive_failures_and_only_says_so_once() {
        let t0 = Instant::now();
        let mut breaker = CircuitBreaker::new(settings());
        assert_eq!(breaker.record(true, t0), None);
        assert_eq!(breaker.record(true, t0), None);
        let opened = breaker.record(true, t0);
        assert!(matches!(opened, Some(Change::Opened { .. })), "{opened:?}");
        assert_eq!(breaker.state().name(), "OPEN");
        // Late outcomes of deliveries already under way change nothing.
        assert_eq!(breaker.record(true, t0), None);
        assert_eq!(breaker.permit(t0 + secs(10)), Permit::Wait(secs(20)));
    }

    #[test]
    fn a_success_resets_the_run_of_failures() {
        let t0 = Instant::now();
        let mut breaker = CircuitBreaker::new(settings());
        for failed in [true, true, false, true, true] {
            assert_eq!(breaker.record(failed, t0), None);
        }
        assert_eq!(breaker.state(), State::Closed);
        assert_eq!(breaker.permit(t0), Permit::Deliver);
    }

    #[test]
    fn it_opens_when_too_many_deliveries_of_the_window_fail() {
        let t0 = Instant::now();
        let mut breaker = CircuitBreaker::new(settings());
        // Alternating: never three in a row, but more than half of ten… not quite at first.
        for i in 0..10 {
            assert_eq!(breaker.record(i % 2 == 0, t0 + secs(i)), None, "call {i}");
        }
        let opened = breaker.record(true, t0 + secs(10));
        assert!(
            matches!(&opened, Some(Change::Opened { reason }) if reason.contains("6 of the last 11")),
            "{opened:?}"
        );
    }

    #[test]
    fn outcomes_older_than_the_window_are_forgotten() {
        let t0 = Instant::now();
        let mut breaker = CircuitBreaker::new(settings());
        // Six failures of nine, never three in a row: under the minimum of calls.
        for i in 0..9 {
            assert_eq!(breaker.record(i % 3 != 2, t0 + secs(i)), None);
        }
        // Two minutes later they no longer count: 1 of 2, not 7 of 11.
        assert_eq!(breaker.record(false, t0 + secs(120)), None);
        assert_eq!(breaker.record(true, t0 + secs(121)), None);
        assert_eq!(breaker.state(), State::Closed);
    }

    #[test]
    fn after_its_pause_it_probes_and_a_success_closes_it() {
        let t0 = Instant::now();
        let mut breaker = CircuitBreaker::new(settings());
        for _ in 0..3 {
            breaker.record(true, t0);
        }
        assert_eq!(breaker.permit(t0 + secs(30)), Permit::Probe);
        assert_eq!(breaker.state(), State::HalfOpen);
        assert_eq!(
            breaker.record(false, t0 + secs(31)),
            Some(Change::Closed { after: secs(31) })
        );
        assert_eq!(breaker.permit(t0 + secs(31)), Permit::Deliver);
        // A fresh start: two failures do not open it again.
        breaker.record(true, t0 + secs(32));
        assert_eq!(breaker.record(true, t0 + secs(33)), None);
    }

    #[test]
    fn a_failed_probe_opens_it_again_within_the_same_episode() {
        let t0 = Instant::now();
        let mut breaker = CircuitBreaker::new(settings());
        for _ in 0..3 {
            breaker.record(true, t0);
        }
        assert_eq!(breaker.permit(t0 + secs(30)), Permit::Probe);
        assert_eq!(breaker.record(true, t0 + secs(30)), None);
        assert_eq!(breaker.permit(t0 + secs(40)), Permit::Wait(secs(20)));
        assert_eq!(breaker.permit(t0 + secs(60)), Permit::Probe);
        assert_eq!(
            breaker.record(false, t0 + secs(61)),
            Some(Change::Closed { after: secs(61) })
        );
    }
}
