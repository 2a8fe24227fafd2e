//! Least privilege on the broker: one RabbitMQ user per service, written down once.
//!
//! RabbitMQ grants a user, per vhost, three regular expressions over resource names:
//! `configure` (declare, delete), `write` (publish to an exchange; bind a queue) and `read`
//! (consume or get from a queue; bind from an exchange). The table below says, per user, which
//! queues it owns, which exchanges it declares, publishes to and binds from; the patterns are
//! derived from it. The same table is used by the local set-up (`scripts/infra-up.sh` reads the
//! patterns from `compose/rabbitmq/definitions.json`, which a test compares with this table),
//! by the test broker (`test_support::TestVhost` grants them on every test vhost), and by
//! [`Topology::declare_as`](super::Topology::declare_as), which declares only what the user may
//! configure and checks the rest exists.
//!
//! Who declares what:
//! - a service declares its own queues (`<service>.…`: work queue, DLQ, delay queues) and the
//!   exchanges it owns (those of its own domain);
//! - the exchanges every service publishes to (`errors.events`, `monitoring.events`) and the
//!   `events.unrouted` exchange and queue belong to nobody: the broker's definitions declare
//!   them (compose), as do `scripts/infra-up.sh` (local) and `TestVhost` (tests).
//!
//! What the patterns cannot close: a queue declared with `x-dead-letter-exchange: ""` (every work
//! and delay queue here) needs `write` on the default exchange `amq.default`, and the consumer
//! re-publishes retries and dead letters through it. `write` on `amq.default` lets a user publish
//! into any queue of the vhost by name. Closing that needs a per-service dead-letter exchange
//! (new queue arguments, so a migration of every queue); see ARCHITECTURE.md.

use crate::event::exchanges;

/// Operational events every service publishes and event-store and audit consume.
pub const MONITORING_EXCHANGE: &str = "monitoring.events";
/// The default exchange, as RabbitMQ names it in permissions.
pub const DEFAULT_EXCHANGE: &str = "amq.default";

/// Exchanges declared by the broker's definitions (or the operator), not by a service.
pub const OPERATOR_EXCHANGES: [&str; 3] = [
    exchanges::ERRORS,
    MONITORING_EXCHANGE,
    super::topology::UNROUTED,
];

/// What one broker user may touch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant {
    pub user: &'static str,
    /// Owns every queue named `<user>.…` (its work queues, their DLQs and delay queues).
    pub owns_queues: bool,
    /// Exchanges it declares (and so could delete).
    pub declares: &'static [&'static str],
    /// Exchanges it publishes to.
    pub publishes: &'static [&'static str],
    /// Exchanges its queues are bound to.
    pub binds_from: &'static [&'static str],
}

/// The RabbitMQ permission triple, as in `definitions.json` and `PUT /api/permissions`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Permissions {
    pub configure: String,
    pub write: String,
    pub read: String,
}

const ALL_DOMAIN_AND_MONITORING: [&str; 6] = [
    exchanges::COMPLAINTS,
    exchanges::NOTIFICATIONS,
    exchanges::AUDIT,
    exchanges::SAGA,
    exchanges::ERRORS,
    MONITORING_EXCHANGE,
];

pub const COMPLAINT_SERVICE: Grant = Grant {
    user: "complaint-service",
    owns_queues: true,
    declares: &[exchanges::COMPLAINTS, exchanges::SAGA, exchanges::COMMANDS],
    publishes: &[
        exchanges::COMPLAINTS,
        exchanges::SAGA,
        exchanges::ERRORS,
        MONITORING_EXCHANGE,
    ],
    binds_from: &[
        exchanges::COMPLAINTS,
        exchanges::NOTIFICATIONS,
        exchanges::AUDIT,
        exchanges::COMMANDS,
    ],
};

pub const NOTIFICATION_SERVICE: Grant = Grant {
    user: "notification-service",
    owns_queues: true,
    declares: &[exchanges::NOTIFICATIONS],
    publishes: &[
        exchanges::NOTIFICATIONS,
        exchanges::ERRORS,
        MONITORING_EXCHANGE,
    ],
    binds_from: &[exchanges::COMPLAINTS],
};

pub const AUDIT_SERVICE: Grant = Grant {
    user: "audit-service",
    owns_queues: true,
    declares: &[exchanges::AUDIT],
    publishes: &[exchanges::AUDIT, exchanges::ERRORS, MONITORING_EXCHANGE],
    binds_from: &ALL_DOMAIN_AND_MONITORING,
};

pub const EVENT_STORE_SERVICE: Grant = Grant {
    user: "event-store-service",
    owns_queues: true,
    declares: &[exchanges::REPLAY],
    publishes: &[exchanges::REPLAY, exchanges::ERRORS, MONITORING_EXCHANGE],
    binds_from: &ALL_DOMAIN_AND_MONITORING,
};

/// A client that sends commands to complaint-service over the broker, and nothing else.
pub const API_CLIENT: Grant = Grant {
    user: "api-client",
    owns_queues: false,
    declares: &[],
    publishes: &[exchanges::COMMANDS],
    binds_from: &[],
};

/// Every broker user of the suite; no service uses `guest`.
pub const GRANTS: [Grant; 5] = [
    COMPLAINT_SERVICE,
    NOTIFICATION_SERVICE,
    AUDIT_SERVICE,
    EVENT_STORE_SERVICE,
    API_CLIENT,
];

/// The grant of the user named `user`, if it is one of the suite's.
pub fn grant(user: &str) -> Option<&'static Grant> {
    GRANTS.iter().find(|g| g.user == user)
}

impl Grant {
    /// May this user declare (configure) the queue or exchange `name`?
    pub fn may_configure(&self, name: &str) -> bool {
        self.owns(name) || self.declares.contains(&name)
    }

    fn owns(&self, name: &str) -> bool {
        self.owns_queues
            && name
                .strip_prefix(self.user)
                .is_some_and(|rest| rest.starts_with('.'))
    }

    /// The patterns RabbitMQ enforces.
    pub fn permissions(&self) -> Permissions {
        let own = self
            .owns_queues
            .then(|| format!("{}\\..*", escape(self.user)));
        let mut write: Vec<String> = self.publishes.iter().map(|e| escape(e)).collect();
        if self.owns_queues {
            // Declaring a queue whose dead-letter exchange is "" needs write on it, and retries
            // and dead letters are re-published through it.
            write.push(escape(DEFAULT_EXCHANGE));
        }
        if !self.declares.is_empty() {
            // Declaring an exchange with an alternate exchange needs write on the latter.
            write.push(escape(super::topology::UNROUTED));
        }
        Permissions {
            configure: pattern(
                own.iter()
                    .cloned()
                    .chain(self.declares.iter().map(|e| escape(e))),
            ),
            write: pattern(own.iter().cloned().chain(write)),
            read: pattern(
                own.into_iter()
                    .chain(self.binds_from.iter().map(|e| escape(e))),
            ),
        }
    }
}

/// `^(a|b|c)$`, or `^$` (matches no resource: RabbitMQ names are never empty here) for none.
fn pattern(alternatives: impl Iterator<Item = String>) -> String {
    let mut seen: Vec<String> = Vec::new();
    for alternative in alternatives {
        if !seen.contains(&alternative) {
            seen.push(alternative);
        }
    }
    if seen.is_empty() {
        "^$".to_owned()
    } else {
        format!("^({})$", seen.join("|"))
    }
}

/// Our names hold letters, digits, `-` and `.`; only the dot means something in a regex.
fn escape(name: &str) -> String {
    name.replace('.', "\\.")
}

#[cfg(test)]
mod tests;
