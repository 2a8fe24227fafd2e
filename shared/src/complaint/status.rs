//! Where a complaint is in its lifecycle.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::values::ValidationError;

/// `OPEN -assign-> ASSIGNED -process-> IN_PROGRESS -resolve-> RESOLVED -close-> CLOSED`, with
/// reassignment, reopening and reverting an assignment on the side (see [`super::decide`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    #[default]
    Open,
    Assigned,
    InProgress,
    Resolved,
    Closed,
}

impl Status {
    pub const ALL: &'static [Status] = &[
        Self::Open,
        Self::Assigned,
        Self::InProgress,
        Self::Resolved,
        Self::Closed,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Open => "OPEN",
            Self::Assigned => "ASSIGNED",
            Self::InProgress => "IN_PROGRESS",
            Self::Resolved => "RESOLVED",
            Self::Closed => "CLOSED",
        }
    }

    /// Not yet resolved: the SLA clock runs and the complaint can be escalated.
    pub const fn is_unresolved(self) -> bool {
        matches!(self, Self::Open | Self::Assigned | Self::InProgress)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = ValidationError;

    /// Accepts the wire name in any case (`in_progress` too), for query strings typed by hand.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|status| status.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                ValidationError::new(
                    "status",
                    format!(
                        "unknown status `{s}`; expected one of OPEN, ASSIGNED, IN_PROGRESS, \
                         RESOLVED, CLOSED"
                    ),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_use_screaming_snake_case_names() {
        for &status in Status::ALL {
            let json = serde_json::to_value(status).unwrap();
            assert_eq!(json, serde_json::Value::from(status.as_str()));
            assert_eq!(status.as_str().parse::<Status>(), Ok(status));
            assert_eq!(status.to_string(), status.as_str());
        }
        assert_eq!(Status::InProgress.as_str(), "IN_PROGRESS");
    }

    #[test]
    fn parsing_ignores_case_but_refuses_unknown_names() {
        assert_eq!("in_progress".parse::<Status>(), Ok(Status::InProgress));
        let error = "DONE".parse::<Status>().unwrap_err();
        assert_eq!(error.field, "status");
    }

    #[test]
    fn only_open_assigned_and_in_progress_are_unresolved() {
        let unresolved: Vec<Status> = Status::ALL
            .iter()
            .copied()
            .filter(|s| s.is_unresolved())
            .collect();
        assert_eq!(
            unresolved,
            [Status::Open, Status::Assigned, Status::InProgress]
        );
    }
}
