//! Delivering notifications: the transports (SMTP, a JSON-lines file, the log) and the worker
//! that takes due notifications from the table, sends them and records the outcome.

mod breaker;
mod circuit;
mod file;
mod settings;
mod smtp;
mod transport;
mod worker;

pub use breaker::{BreakerSettings, Change, Permit, State};
pub use circuit::Circuit;
pub use settings::{DeliverySettings, Secret, SmtpSettings, SmtpTls, TransportKind};
pub use transport::{AnyTransport, BuildError, Mail, SendError, Transport};
pub use worker::DeliveryWorker;
