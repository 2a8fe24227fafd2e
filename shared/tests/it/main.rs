//! Integration tests of the shared crate against the real RabbitMQ (a fresh vhost per test).

mod messaging;
mod outbox;
