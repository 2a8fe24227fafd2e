//! Reliable messaging on RabbitMQ (lapin): topology as data, a supervised connection that
//! heals, confirmed publishing, and a consumer loop with retries through delay queues and a
//! dead-letter queue per work queue.

mod broker;
mod consumer;
pub mod dead_letters;
mod depths;
pub mod membership;
mod partitions;
pub mod permissions;
pub mod properties;
mod publisher;
mod retry;
mod settings;
pub mod topology;

pub use broker::Broker;
pub use consumer::{Handler, HandlerError, MessageHandler, Received};
pub use depths::QueueDepth;
pub use publisher::{Outgoing, PublishError, Publisher};
pub use retry::{NextStep, RetryPolicy};
pub use settings::BrokerSettings;
pub use topology::{Binding, Entry, QueueSpec, Topology, WorkQueueType};
