//! notification-service against real PostgreSQL, RabbitMQ and an SMTP server (aiosmtpd).

mod acknowledgement;
mod api;
mod assignment;
mod authorization;
mod batches;
mod circuit;
mod complaints;
mod delivery;
mod harness;
mod schema_versions;
