//! The vocabulary of notifications: which saga step a notification serves, who it is for,
//! how it travels (the event contract's, re-exported) and where it stands, and the roles of
//! the directory. Each is stored and published by its wire name.

use utoipa::ToSchema;

/// The step, audience and channel travel in NOTIFICATION_SENT / NOTIFICATION_FAILED: they are
/// the event contract's, in `shared::event::notification`.
pub use shared::event::notification::{Audience, Channel, Step};

shared::wire_enum!(
    /// Where a notification stands.
    #[derive(ToSchema)]
    NotificationStatus, "SCREAMING_SNAKE_CASE" {
        /// Waiting for (another) delivery attempt.
        Pending => "PENDING",
        Sent => "SENT",
        /// Will not be delivered: see its failure reason.
        Failed => "FAILED",
        /// Withdrawn before it was sent, because its step was compensated.
        Cancelled => "CANCELLED",
    }
);

shared::wire_enum!(
    /// An agent's role in the directory.
    #[derive(ToSchema)]
    Role, "SCREAMING_SNAKE_CASE" {
        Agent => "AGENT",
        Supervisor => "SUPERVISOR",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip_through_serde_and_from_str() {
        for step in Step::ALL {
            assert_eq!(step.as_str().parse::<Step>(), Ok(*step));
            assert_eq!(
                serde_json::to_value(step).unwrap(),
                serde_json::json!(step.as_str())
            );
        }
        for status in NotificationStatus::ALL {
            assert_eq!(status.as_str().parse::<NotificationStatus>(), Ok(*status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.as_str())
            );
        }
        assert_eq!(Audience::Supervisor.as_str(), "supervisor");
        assert_eq!(Role::Supervisor.as_str(), "SUPERVISOR");
        assert!("sideways".parse::<Step>().is_err());
    }

    /// The OpenAPI document names the values as the wire does (issue 10: it said `Agent`).
    #[test]
    fn schemas_list_the_wire_names() {
        fn values<T: utoipa::PartialSchema>() -> serde_json::Value {
            serde_json::to_value(T::schema()).unwrap()["enum"].clone()
        }
        assert_eq!(values::<Role>(), serde_json::json!(["AGENT", "SUPERVISOR"]));
        let statuses: Vec<&str> = NotificationStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(values::<NotificationStatus>(), serde_json::json!(statuses));
        let steps: Vec<&str> = Step::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(values::<Step>(), serde_json::json!(steps));
        assert_eq!(
            values::<Audience>(),
            serde_json::json!(["complainant", "assignee", "supervisor"])
        );
        assert_eq!(values::<Channel>(), serde_json::json!(["email"]));
    }
}
