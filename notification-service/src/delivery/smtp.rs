//! E-mail over SMTP (lettre's SMTP client), with a small pool of open connections.
//!
//! A 5xx answer is permanent; a 4xx answer, a refused or broken connection, or a timeout is
//! transient.
//!
//! The connections are opened here rather than by lettre's transport so that they can set
//! TCP_NODELAY: lettre writes a message's body and its final `.` in two writes, and without
//! it Nagle's algorithm holds the `.` back until the server's delayed ACK (40 ms on Linux),
//! which capped each connection near 25 messages a second.

use super::{
    settings::{SmtpSettings, SmtpTls},
    transport::{BuildError, Mail, SendError, Transport},
};
use lettre::{
    message::{header::ContentType, Mailbox},
    transport::smtp::{
        authentication::{Credentials, Mechanism},
        client::{AsyncSmtpConnection, TlsParameters},
        extension::ClientId,
    },
    Address, Message,
};
use std::{
    sync::Mutex,
    time::{Duration, Instant},
};
use tokio::net::TcpStream;

/// A connection idle for longer is closed rather than reused (servers drop idle clients).
const MAX_IDLE: Duration = Duration::from_secs(30);

enum Tls {
    None,
    Opportunistic(TlsParameters),
    Starttls(TlsParameters),
    Wrapper(TlsParameters),
}

pub struct SmtpTransport {
    host: String,
    port: u16,
    tls: Tls,
    timeout: Duration,
    hello: ClientId,
    credentials: Option<Credentials>,
    pool_size: usize,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
    from: Mailbox,
    /// The right-hand side of Message-IDs (`<notification id@domain>`).
    domain: String,
}

impl SmtpTransport {
    pub fn build(settings: &SmtpSettings, from: &str) -> Result<Self, BuildError> {
        let from: Mailbox = from.parse().map_err(|e: lettre::address::AddressError| {
            BuildError::From(from.to_owned(), e.to_string())
        })?;
        let parameters = || {
            TlsParameters::new(settings.host.clone())
                .map_err(|e| BuildError::Smtp(settings.host.clone(), e.to_string()))
        };
        let tls = match settings.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::Opportunistic => Tls::Opportunistic(parameters()?),
            SmtpTls::Starttls => Tls::Starttls(parameters()?),
            SmtpTls::Tls => Tls::Wrapper(parameters()?),
        };
        let credentials = settings.username.as_ref().map(|username| {
            let password = settings.password.as_ref().map(|p| p.0.clone());
            Credentials::new(username.clone(), password.unwrap_or_default())
        });
        Ok(Self {
            host: settings.host.clone(),
            port: settings.port,
            tls,
            timeout: settings.timeout,
            hello: ClientId::default(),
            credentials,
            pool_size: settings.pool_size.max(1) as usize,
            idle: Mutex::new(Vec::new()),
            domain: from.email.domain().to_owned(),
            from,
        })
    }

    fn message(&self, mail: &Mail<'_>) -> Result<Message, SendError> {
        let address: Address = mail
            .to_address
            .parse()
            .map_err(|e| SendError::InvalidAddress(format!("{:?}: {e}", mail.to_address)))?;
        Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(Some(mail.to_name.to_owned()), address))
            .subject(mail.subject)
            .message_id(Some(format!("<{}@{}>", mail.notification_id, self.domain)))
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.to_owned())
            .map_err(|e| SendError::InvalidAddress(e.to_string()))
    }

    /// An idle connection that is recent enough, if any.
    fn reuse(&self) -> Option<AsyncSmtpConnection> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some((connection, since)) = idle.pop() {
            if since.elapsed() < MAX_IDLE && !connection.has_broken() {
                return Some(connection);
            }
        }
        None
    }

    fn put_back(&self, connection: AsyncSmtpConnection) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.pool_size {
            idle.push((connection, Instant::now()));
        }
    }

    /// A new connection: greeted, upgraded to TLS as configured, authenticated.
    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let mut connection = match &self.tls {
            // TLS from the first byte: lettre's own connect does the handshake.
            Tls::Wrapper(parameters) => AsyncSmtpConnection::connect_tokio1(
                (self.host.as_str(), self.port),
                Some(self.timeout),
                &self.hello,
                Some(parameters.clone()),
                None,
            )
            .await
            .map_err(classify)?,
            _ => {
                let stream = TcpStream::connect((self.host.as_str(), self.port))
                    .await
                    .map_err(|e| {
                        SendError::Transient(format!(
                            "cannot connect to {}:{}: {e}",
                            self.host, self.port
                        ))
                    })?;
                stream
                    .set_nodelay(true)
                    .map_err(|e| SendError::Transient(e.to_string()))?;
                AsyncSmtpConnection::connect_with_transport(Box::new(stream), &self.hello)
                    .await
                    .map_err(classify)?
            }
        };
        match &self.tls {
            Tls::Starttls(parameters) => connection
                .starttls(parameters.clone(), &self.hello)
                .await
                .map_err(classify)?,
            Tls::Opportunistic(parameters) if connection.can_starttls() => connection
                .starttls(parameters.clone(), &self.hello)
                .await
                .map_err(classify)?,
            _ => {}
        }
        if let Some(credentials) = &self.credentials {
            connection
                .auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await
                .map_err(classify)?;
        }
        Ok(connection)
    }

    /// One SMTP transaction on `connection`; it goes back to the pool if all went well
    /// (lettre closes a connection on any error).
    async fn transact(
        &self,
        mut connection: AsyncSmtpConnection,
        message: &Message,
        raw: &[u8],
    ) -> Result<(), lettre::transport::smtp::Error> {
        connection.send(message.envelope(), raw).await?;
        self.put_back(connection);
        Ok(())
    }
}

impl Transport for SmtpTransport {
    async fn send(&self, mail: &Mail<'_>) -> Result<(), SendError> {
        let message = self.message(mail)?;
        let raw = message.formatted();
        let attempt = async {
            if let Some(connection) = self.reuse() {
                match self.transact(connection, &message, &raw).await {
                    Ok(()) => return Ok(()),
                    // The server refused this message: that is its answer.
                    Err(error) if error.is_transient() || error.is_permanent() => {
                        return Err(classify(error))
                    }
                    // The pooled connection had gone stale: try a fresh one, once.
                    Err(error) => tracing::debug!(%error, "pooled SMTP connection failed"),
                }
            }
            let connection = self.connect().await?;
            self.transact(connection, &message, &raw)
                .await
                .map_err(classify)
        };
        tokio::time::timeout(self.timeout, attempt)
            .await
            .unwrap_or_else(|_| {
                Err(SendError::Transient(format!(
                    "no answer from {}:{} within {:?}",
                    self.host, self.port, self.timeout
                )))
            })
    }
}

fn classify(error: lettre::transport::smtp::Error) -> SendError {
    let text = error.to_string();
    if error.is_permanent() {
        SendError::Permanent(text)
    } else {
        SendError::Transient(text)
    }
}
