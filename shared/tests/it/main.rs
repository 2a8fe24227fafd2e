//! Integration tests of the shared crate against the real RabbitMQ (a fresh vhost per test)
//! and PostgreSQL (a fresh schema per test).

mod auth;
mod http_edge;
mod least_privilege;
mod messaging;
mod monitoring;
mod outbox;
mod partitions;
mod schema;
mod statement_timeout;
mod unavailable;
mod upkeep;
mod wakeups;
