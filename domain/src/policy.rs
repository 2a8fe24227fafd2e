//! The configurable rules `decide` applies: SLA targets and the reopen window.

use chrono::TimeDelta;

use super::priority::Priority;

/// Business rules that vary by deployment, passed to [`super::decide`] so the aggregate stays
/// free of configuration loading. `Policy::default()` holds the targets of the design brief.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub sla: SlaTargets,
    /// How long after being resolved (or closed) a complaint may still be reopened.
    pub reopen_window: TimeDelta,
}

/// The time allowed to resolve a complaint, per priority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaTargets {
    pub low: TimeDelta,
    pub medium: TimeDelta,
    pub high: TimeDelta,
    pub critical: TimeDelta,
}

impl SlaTargets {
    pub fn for_priority(&self, priority: Priority) -> TimeDelta {
        match priority {
            Priority::Low => self.low,
            Priority::Medium => self.medium,
            Priority::High => self.high,
            Priority::Critical => self.critical,
        }
    }
}

impl Default for SlaTargets {
    /// LOW 7 days, MEDIUM 72 hours, HIGH 24 hours, CRITICAL 4 hours.
    fn default() -> Self {
        Self {
            low: TimeDelta::days(7),
            medium: TimeDelta::hours(72),
            high: TimeDelta::hours(24),
            critical: TimeDelta::hours(4),
        }
    }
}

impl Default for Policy {
    /// The default SLA targets and a reopen window of 30 days.
    fn default() -> Self {
        Self {
            sla: SlaTargets::default(),
            reopen_window: TimeDelta::days(30),
        }
    }
}

impl Policy {
    /// The time allowed to resolve a complaint of `priority`.
    pub fn sla(&self, priority: Priority) -> TimeDelta {
        self.sla.for_priority(priority)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_design_brief() {
        let policy = Policy::default();
        assert_eq!(policy.sla(Priority::Low), TimeDelta::days(7));
        assert_eq!(policy.sla(Priority::Medium), TimeDelta::hours(72));
        assert_eq!(policy.sla(Priority::High), TimeDelta::hours(24));
        assert_eq!(policy.sla(Priority::Critical), TimeDelta::hours(4));
        assert_eq!(policy.reopen_window, TimeDelta::days(30));
    }
}
