//! audit-service against real PostgreSQL and RabbitMQ: a fresh schema and vhost per test.

mod authorization;
mod compensation;
mod correlation;
mod events;
mod harness;
mod hash_schemes;
mod queries;
mod recording;
mod startup;
mod tampering;
