//! Episodes, pure: a condition observed again and again is announced once, when it begins,
//! and forgotten when it ends, so a monitor that looks every few seconds does not raise an
//! alarm per look (or per message). The caller passes the time in.

use std::time::{Duration, Instant};

/// An edge of an episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    Began,
    Ended,
}

/// A condition that counts once it has held for `hold` (zero: at once), such as a dependency
/// down or a queue too deep.
#[derive(Debug, Clone)]
pub struct Episode {
    hold: Duration,
    bad_since: Option<Instant>,
    raised: bool,
}

impl Episode {
    pub fn new(hold: Duration) -> Self {
        Self {
            hold,
            bad_since: None,
            raised: false,
        }
    }

    /// Whether the episode is under way (announced and not ended).
    pub fn is_raised(&self) -> bool {
        self.raised
    }

    /// How long the condition has held, at `now`.
    pub fn lasted(&self, now: Instant) -> Duration {
        self.bad_since.map_or(Duration::ZERO, |since| now - since)
    }

    /// One observation: `bad` is whether the condition holds now.
    pub fn observe(&mut self, bad: bool, now: Instant) -> Option<Edge> {
        if !bad {
            self.bad_since = None;
            return std::mem::take(&mut self.raised).then_some(Edge::Ended);
        }
        let since = *self.bad_since.get_or_insert(now);
        if !self.raised && now - since >= self.hold {
            self.raised = true;
            return Some(Edge::Began);
        }
        None
    }
}

/// A count that should not grow, such as the messages of a dead-letter queue. The episode
/// begins when it grows past where it stood (what was there when watching began is not news)
/// and ends when it is emptied; partial draining lowers the mark.
#[derive(Debug, Clone, Default)]
pub struct Growth {
    mark: Option<u32>,
    raised: bool,
}

/// The beginning of a growth episode: from what, to what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grew {
    pub from: u32,
    pub to: u32,
}

impl Growth {
    pub fn observe(&mut self, count: u32) -> Option<Grew> {
        let Some(mark) = self.mark else {
            self.mark = Some(count);
            return None;
        };
        if count == 0 {
            self.raised = false;
            self.mark = Some(0);
            return None;
        }
        if count < mark {
            self.mark = Some(count);
            return None;
        }
        if count > mark && !self.raised {
            self.raised = true;
            return Some(Grew {
                from: mark,
                to: count,
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn a_condition_is_announced_once_it_has_held_long_enough_and_only_once() {
        let t0 = Instant::now();
        let mut down = Episode::new(secs(30));
        assert_eq!(down.observe(true, t0), None);
        assert_eq!(down.observe(true, t0 + secs(29)), None);
        assert_eq!(down.observe(true, t0 + secs(30)), Some(Edge::Began));
        assert_eq!(down.lasted(t0 + secs(45)), secs(45));
        for i in 31..100 {
            assert_eq!(down.observe(true, t0 + secs(i)), None);
        }
        assert_eq!(down.observe(false, t0 + secs(100)), Some(Edge::Ended));
        assert_eq!(down.observe(false, t0 + secs(101)), None);
    }

    #[test]
    fn a_short_blip_is_no_episode() {
        let t0 = Instant::now();
        let mut down = Episode::new(secs(30));
        assert_eq!(down.observe(true, t0), None);
        assert_eq!(down.observe(false, t0 + secs(10)), None);
        // It starts counting afresh.
        assert_eq!(down.observe(true, t0 + secs(20)), None);
        assert_eq!(down.observe(true, t0 + secs(45)), None);
        assert_eq!(down.observe(true, t0 + secs(50)), Some(Edge::Began));
    }

    #[test]
    fn with_no_hold_the_first_bad_observation_begins_it() {
        let t0 = Instant::now();
        let mut deep = Episode::new(Duration::ZERO);
        assert_eq!(deep.observe(true, t0), Some(Edge::Began));
        assert!(deep.is_raised());
        assert_eq!(deep.observe(true, t0), None);
    }

    #[test]
    fn what_a_dlq_held_when_watching_began_is_not_growth() {
        let mut dlq = Growth::default();
        assert_eq!(dlq.observe(7), None);
        assert_eq!(dlq.observe(7), None);
        assert_eq!(dlq.observe(8), Some(Grew { from: 7, to: 8 }));
    }

    #[test]
    fn a_growing_dlq_is_one_episode_until_it_is_emptied() {
        let mut dlq = Growth::default();
        assert_eq!(dlq.observe(0), None);
        assert_eq!(dlq.observe(1), Some(Grew { from: 0, to: 1 }));
        for count in [2, 5, 40, 3, 90] {
            assert_eq!(dlq.observe(count), None, "{count}");
        }
        assert_eq!(dlq.observe(0), None);
        assert_eq!(dlq.observe(2), Some(Grew { from: 0, to: 2 }));
    }

    #[test]
    fn partial_draining_lowers_the_mark() {
        let mut dlq = Growth::default();
        dlq.observe(10);
        assert_eq!(dlq.observe(4), None);
        assert_eq!(dlq.observe(5), Some(Grew { from: 4, to: 5 }));
    }
}
