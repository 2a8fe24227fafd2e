//! The RabbitMQ exchanges of the suite: durable topic exchanges, one per domain, plus the one
//! replays are published to.

pub const COMPLAINTS: &str = "complaints.events";
pub const NOTIFICATIONS: &str = "notifications.events";
pub const AUDIT: &str = "audit.events";
pub const SAGA: &str = "saga.events";
pub const ERRORS: &str = "errors.events";
/// Episodes operators should hear of: consumer lag, growing DLQs, open circuits, degraded services.
pub const MONITORING: &str = "monitoring.events";

/// Commands, what someone wants done (not what happened): routed by the command's dotted
/// type (`complaint.assign`) to the service that decides them. Not a domain exchange: no
/// event travels here, and the consumers of every event (audit, event store) do not bind it.
pub const COMMANDS: &str = "complaints.commands";

/// Where replayed events are re-published, apart from the live domain exchanges, so a replay
/// never triggers live side effects (notifications, compensations) by accident.
pub const REPLAY: &str = "events.replay";

/// The domain exchanges, which carry every event of the catalogue (not [`REPLAY`]).
pub const DOMAIN_EXCHANGES: [&str; 6] =
    [COMPLAINTS, NOTIFICATIONS, AUDIT, SAGA, ERRORS, MONITORING];
