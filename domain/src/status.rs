//! Where a complaint is in its lifecycle.

use crate::{values::ValidationError, wire};

crate::wire_enum!(
    /// `OPEN -assign-> ASSIGNED -process-> IN_PROGRESS -resolve-> RESOLVED -close-> CLOSED`, with
    /// reassignment, reopening and reverting an assignment on the side (see [`super::decide`]).
    #[derive(Default)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    Status, "SCREAMING_SNAKE_CASE" {
        #[default]
        Open => "OPEN",
        Assigned => "ASSIGNED",
        InProgress => "IN_PROGRESS",
        Resolved => "RESOLVED",
        Closed => "CLOSED",
    }
);

impl Status {
    /// Not yet resolved: the SLA clock runs and the complaint can be escalated.
    pub const fn is_unresolved(self) -> bool {
        matches!(self, Self::Open | Self::Assigned | Self::InProgress)
    }

    /// The wire name in any case (`in_progress` too), for query strings typed by hand;
    /// refused as a mistake in the field `status`.
    pub fn parse_lenient(raw: &str) -> Result<Self, ValidationError> {
        wire::parse_lenient("status", Self::ALL, Self::NAMES, raw)
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
    fn a_status_typed_by_hand_may_be_in_any_case_but_must_be_known() {
        assert_eq!(Status::parse_lenient("in_progress"), Ok(Status::InProgress));
        let error = Status::parse_lenient("DONE").unwrap_err();
        assert_eq!(error.field, "status");
        assert_eq!(
            error.message,
            "unknown status `DONE`; expected one of OPEN, ASSIGNED, IN_PROGRESS, RESOLVED, CLOSED"
        );
        assert_eq!(
            "DONE".parse::<Status>().unwrap_err().to_string(),
            "unknown Status `DONE`; expected one of OPEN, ASSIGNED, IN_PROGRESS, RESOLVED, CLOSED"
        );
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
