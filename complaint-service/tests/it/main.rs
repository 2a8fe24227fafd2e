//! complaint-service against real PostgreSQL and RabbitMQ: each test starts the real `App` on
//! port 0 with a fresh schema and a fresh vhost, and talks to it over HTTP.

mod authorization;
mod command_messages;
mod concurrency;
mod group_commit;
mod harness;
mod idempotency;
mod lifecycle;
mod projections;
mod publishing;
mod queries;
mod saga_batches;
mod saga_malformed_replies;
mod saga_recovery;
mod sagas;
mod schema_versions;
mod snapshots;
mod transitions;
mod validation;
