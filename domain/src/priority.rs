//! How urgent a complaint is; it sets the SLA target for resolving it.

use crate::{values::ValidationError, wire};

crate::wire_enum!(
    /// Ordered from least to most urgent, so `Priority::High > Priority::Low`.
    #[derive(Default)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    Priority, "SCREAMING_SNAKE_CASE" {
        Low => "LOW",
        /// What a new complaint gets when its author does not say.
        #[default]
        Medium => "MEDIUM",
        High => "HIGH",
        Critical => "CRITICAL",
    }
);

impl Priority {
    /// One level up, as an SLA escalation does; `Critical` is the top and stays.
    pub const fn escalated(self) -> Self {
        match self {
            Self::Low => Self::Medium,
            Self::Medium => Self::High,
            Self::High | Self::Critical => Self::Critical,
        }
    }

    /// The wire name in any case (`critical` too), for query strings typed by hand; refused
    /// as a mistake in the field `priority`.
    pub fn parse_lenient(raw: &str) -> Result<Self, ValidationError> {
        wire::parse_lenient("priority", Self::ALL, Self::NAMES, raw)
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
        assert_eq!(Priority::NAMES, ["LOW", "MEDIUM", "HIGH", "CRITICAL"]);
        assert!("critical".parse::<Priority>().is_err(), "the wire is exact");
    }

    #[test]
    fn a_priority_typed_by_hand_may_be_in_any_case() {
        assert_eq!(Priority::parse_lenient("critical"), Ok(Priority::Critical));
        let error = Priority::parse_lenient("URGENT").unwrap_err();
        assert_eq!(error.field, "priority");
        assert_eq!(
            error.message,
            "unknown priority `URGENT`; expected one of LOW, MEDIUM, HIGH, CRITICAL"
        );
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
