//! How urgent a complaint is; it sets the SLA target for resolving it.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::values::ValidationError;

/// Ordered from least to most urgent, so `Priority::High > Priority::Low`.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Priority {
    Low,
    /// What a new complaint gets when its author does not say.
    #[default]
    Medium,
    High,
    Critical,
}

impl Priority {
    pub const ALL: &'static [Priority] = &[Self::Low, Self::Medium, Self::High, Self::Critical];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Low => "LOW",
            Self::Medium => "MEDIUM",
            Self::High => "HIGH",
            Self::Critical => "CRITICAL",
        }
    }

    /// One level up, as an SLA escalation does; `Critical` is the top and stays.
    pub const fn escalated(self) -> Self {
        match self {
            Self::Low => Self::Medium,
            Self::Medium => Self::High,
            Self::High | Self::Critical => Self::Critical,
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Priority {
    type Err = ValidationError;

    /// Accepts the wire name in any case, for query strings typed by hand.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|priority| priority.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                ValidationError::new(
                    "priority",
                    format!("unknown priority `{s}`; expected one of LOW, MEDIUM, HIGH, CRITICAL"),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_use_their_wire_names() {
        for &priority in Priority::ALL {
            let json = serde_json::to_value(priority).unwrap();
            assert_eq!(json, serde_json::Value::from(priority.as_str()));
            assert_eq!(priority.as_str().parse::<Priority>(), Ok(priority));
            assert_eq!(priority.to_string(), priority.as_str());
        }
        assert_eq!("critical".parse::<Priority>(), Ok(Priority::Critical));
        assert_eq!("URGENT".parse::<Priority>().unwrap_err().field, "priority");
    }

    #[test]
    fn escalation_goes_one_level_up_and_stops_at_critical() {
        assert_eq!(Priority::Low.escalated(), Priority::Medium);
        assert_eq!(Priority::Medium.escalated(), Priority::High);
        assert_eq!(Priority::High.escalated(), Priority::Critical);
        assert_eq!(Priority::Critical.escalated(), Priority::Critical);
    }

    #[test]
    fn priorities_are_ordered_by_urgency() {
        assert!(Priority::ALL.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(Priority::default(), Priority::Medium);
    }
}
