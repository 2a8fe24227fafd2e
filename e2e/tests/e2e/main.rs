//! The four services together, end to end: complaint-service, notification-service,
//! audit-service and event-store-service run in-process against the real PostgreSQL,
//! RabbitMQ, Redis and MongoDB servers and a real SMTP server, and the tests check through
//! their public HTTP APIs that a complaint's events reach every one of them, that the sagas
//! of DESIGN.md run (acknowledgement, assignment with compensation, SLA escalation), and that
//! a consumer service stopped during the flow catches up with nothing lost or doubled.

mod api;
mod catch_up;
mod compensation;
mod escalation;
mod expect;
mod lifecycle;
mod propagation;
mod properties;
mod saga_recovery;
mod suite;
