//! The Redis streams the event store appends to: one per domain, like the exchanges.

pub const COMPLAINTS: &str = "complaints-stream";
pub const NOTIFICATIONS: &str = "notifications-stream";
pub const AUDIT: &str = "audit-stream";
pub const SAGA: &str = "saga-stream";
pub const ERRORS: &str = "errors-stream";
pub const MONITORING: &str = "monitoring-stream";

/// Every domain stream, in the order of [`super::exchanges::DOMAIN_EXCHANGES`].
pub const ALL: [&str; 6] = [COMPLAINTS, NOTIFICATIONS, AUDIT, SAGA, ERRORS, MONITORING];
