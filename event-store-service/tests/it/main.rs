//! Integration tests of event-store-service against real RabbitMQ, Redis and the MongoDB-wire
//! server: each test gets its own vhost, database and Redis prefix.

mod authorization;
mod bounds;
mod crash;
mod errors;
mod events;
mod groups;
mod harness;
mod ingestion;
mod paging;
mod process;
mod replay;
mod snapshots;
mod state;
