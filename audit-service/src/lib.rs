//! audit-service: records every event of every service in a tamper-evident trail and answers
//! auditors' queries about it.
//!
//! Rooms: `consumer` (the recorder), `store` (all SQL), `http` (the API), and pure policy:
//! `entry` (what is kept of an event), `chain` and `canonical_json` (the hash chain),
//! `verify` (walking it), `compensation` (which entries a compensation marks), `causal`
//! (ordering a correlation), `cursor` and `query` (what a reader may ask).

pub mod app;
pub mod canonical_json;
pub mod causal;
pub mod chain;
pub mod compensation;
pub mod config;
pub mod consumer;
pub mod cursor;
pub mod entry;
pub mod error;
mod http;
mod metrics;
pub mod query;
pub mod store;
pub mod verify;
