//! The transport seam: one message in, delivered or a classified failure out.

use super::{
    file::{FileTransport, LogTransport},
    settings::{DeliverySettings, TransportKind},
    smtp::SmtpTransport,
};
use std::future::Future;
use uuid::Uuid;

/// One message to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail<'a> {
    pub notification_id: Uuid,
    pub complaint_id: &'a str,
    pub to_address: &'a str,
    pub to_name: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

/// Why a message was not delivered, which decides whether it is tried again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth another try later: the server is unreachable or answered 4xx.
    #[error("{0}")]
    Transient(String),
    /// Will never succeed: the server answered 5xx (unknown recipient…).
    #[error("{0}")]
    Permanent(String),
    /// The recipient's address cannot be used at all.
    #[error("{0}")]
    InvalidAddress(String),
}

/// A way of delivering messages.
pub trait Transport: Send + Sync {
    fn send(&self, mail: &Mail<'_>) -> impl Future<Output = Result<(), SendError>> + Send;
}

/// A transport that cannot be set up from its settings.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("delivery.from {0:?} is not a mailbox: {1}")]
    From(String, String),
    #[error("cannot set up SMTP towards {0}: {1}")]
    Smtp(String, String),
    #[error("cannot create the mail directory {0}: {1}")]
    Directory(String, std::io::Error),
}

/// The transport chosen by configuration.
pub enum AnyTransport {
    Smtp(Box<SmtpTransport>),
    File(FileTransport),
    Log(LogTransport),
}

impl AnyTransport {
    pub fn build(settings: &DeliverySettings) -> Result<Self, BuildError> {
        Ok(match settings.transport {
            TransportKind::Smtp => Self::Smtp(Box::new(SmtpTransport::build(
                &settings.smtp,
                &settings.from,
            )?)),
            TransportKind::File => Self::File(FileTransport::build(&settings.file_dir)?),
            TransportKind::Log => Self::Log(LogTransport),
        })
    }
}

impl Transport for AnyTransport {
    async fn send(&self, mail: &Mail<'_>) -> Result<(), SendError> {
        match self {
            Self::Smtp(transport) => transport.send(mail).await,
            Self::File(transport) => transport.send(mail).await,
            Self::Log(transport) => transport.send(mail).await,
        }
    }
}
