//! event-store-service: the system-wide, append-only log of every domain event in MongoDB,
//! mirrored into Redis Streams, with replay and state reconstruction.
//!
//! Rooms: `consumer` (ingestion), `store` (MongoDB), `streams` (Redis), `replay`, `http`, and
//! the pure rules in `placement` (where an event is filed) and `state` (folding a complaint).

pub mod app;
pub mod config;
pub mod consumer;
pub mod error;
pub mod http;
pub mod metrics;
pub mod placement;
pub mod replay;
pub mod state;
pub mod store;
pub mod streams;
