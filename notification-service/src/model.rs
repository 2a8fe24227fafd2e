//! The vocabulary of notifications: which saga step a notification serves, who it is for,
//! how it travels and where it stands. Each is stored and published by its wire name.

use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};
use utoipa::ToSchema;

/// Defines a closed set of wire names with `as_str`, `Display` and `FromStr`.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident, $case:tt { $($(#[$vmeta:meta])* $variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = $case)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| UnknownName(s.to_owned()))
            }
        }
    };
}

/// A stored name this build does not know (a row written by a newer version, or corruption).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown name `{0}`")]
pub struct UnknownName(pub String);

wire_enum!(
    /// The saga step a notification serves; complaint-service's sagas read it from
    /// NOTIFICATION_SENT / NOTIFICATION_FAILED.
    Step, "lowercase" {
        /// COMPLAINT_CREATED: receipt acknowledged to the complainant.
        Acknowledgement => "acknowledgement",
        /// COMPLAINT_ASSIGNED: the assignee and the complainant are told.
        Assignment => "assignment",
        /// COMPLAINT_ESCALATED: supervisors and the assignee are told.
        Escalation => "escalation",
        /// Any other change the complainant hears of (resolved, closed, reopened, reverted…).
        Status => "status",
        /// Retractions of what an undone step sent.
        Compensation => "compensation",
    }
);

wire_enum!(
    /// Who a notification is for; it picks the template.
    Audience, "lowercase" {
        Complainant => "complainant",
        Assignee => "assignee",
        Supervisor => "supervisor",
    }
);

wire_enum!(
    /// How a notification travels. Only e-mail today; the SMTP, file and log transports are
    /// three ways of delivering it.
    Channel, "lowercase" {
        Email => "email",
    }
);

wire_enum!(
    /// Where a notification stands.
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

wire_enum!(
    /// An agent's role in the directory.
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
