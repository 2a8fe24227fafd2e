//! Integration tests of the shared crate against the real RabbitMQ (a fresh vhost per test)
//! and PostgreSQL (a fresh schema per test).

mod messaging;
mod outbox;
mod unavailable;
mod wakeups;
