//! Commands as messages: the queue `complaint-service.commands`, bound to `complaints.commands`
//! (`complaint.*`), and its handler. A command message runs through the same
//! [`CommandService`] as the REST routes:
//!
//! 1. a `commandId` seen before gets the first answer again and nothing is done (the answer
//!    is kept in the idempotency store, accepted or refused, for as long as the REST API's
//!    `Idempotency-Key`s: 24 hours);
//! 2. else the command runs, keyed by its `commandId`, in the command handler's one
//!    transaction (events, outbox, kept answer);
//! 3. a refusal (a value, a rule, a stale `expectedVersion`, an unknown complaint) is kept
//!    with COMMAND_REJECTED in the outbox, in one transaction: exactly once, like any event;
//! 4. the answer goes to the message's `reply_to`, with its `correlation_id`, if it names one.
//!
//! A database failure, or a race lost to a concurrent writer when no version was expected,
//! is retried through the delay queues; a message that does not decode, or that reuses a
//! `commandId` for another command, is dead-lettered with the reason.

mod answers;

use chrono::{SubsecRound, Utc};
use shared::{
    event::{
        command::{CommandMessage, CommandReply, COMPLAINT_COMMANDS},
        exchanges,
    },
    messaging::{
        properties, HandlerError, MessageHandler, Outgoing, PublishError, Publisher, QueueSpec,
        Received,
    },
};
use sqlx::PgPool;
use std::sync::Arc;
use tracing::Instrument;

use crate::{
    commands::{CommandService, Created, IdempotencyKey},
    config::SERVICE,
    error::ServiceError,
    store::idempotency,
};
use answers::{KeptRejection, Rejection, Verdict};

pub const QUEUE: &str = "complaint-service.commands";

pub fn queue() -> QueueSpec {
    QueueSpec::new(QUEUE).bind(exchanges::COMMANDS, COMPLAINT_COMMANDS)
}

/// The handler of [`QUEUE`].
pub struct CommandDesk {
    pub pool: PgPool,
    pub commands: Arc<CommandService>,
    pub publisher: Publisher,
}

impl MessageHandler for CommandDesk {
    type Message = CommandMessage;

    async fn handle(&self, received: &Received<CommandMessage>) -> Result<(), HandlerError> {
        let message = &received.message;
        let span = tracing::info_span!(
            "command_message",
            command_id = %message.command_id,
            command_type = message.command.command_type().as_str(),
        );
        async {
            let reply = self.answer(received).await?;
            self.send_reply(received, &reply).await
        }
        .instrument(span)
        .await
    }
}

impl CommandDesk {
    async fn answer(
        &self,
        received: &Received<CommandMessage>,
    ) -> Result<CommandReply, HandlerError> {
        let message = &received.message;
        let key = answers::key(message);
        if let Some(reply) = self.kept_reply(message, &key).await? {
            return Ok(reply);
        }
        let correlation_id = answers::correlation_id(message, received.correlation_id.as_deref());
        let (id, command) = match answers::domain_command(message) {
            Ok(parsed) => parsed,
            Err(invalid) => {
                return self
                    .refuse(
                        received,
                        &key,
                        correlation_id,
                        ServiceError::Invalid(invalid),
                    )
                    .await
            }
        };
        let context = answers::context(message, correlation_id.clone());
        match self
            .commands
            .execute_keyed(id, command, &context, key.clone())
            .await
        {
            Ok(Created::New(result) | Created::Replayed(result)) => Ok(answers::accepted(&result)),
            Err(error) => self.refuse(received, &key, correlation_id, error).await,
        }
    }

    /// The answer given before to this `commandId`, if any.
    async fn kept_reply(
        &self,
        message: &CommandMessage,
        key: &IdempotencyKey,
    ) -> Result<Option<CommandReply>, HandlerError> {
        let Some(kept) = idempotency::find(&self.pool, &key.key)
            .await
            .map_err(transient)?
        else {
            return Ok(None);
        };
        if kept.request != key.request {
            return Err(HandlerError::Permanent(anyhow::anyhow!(
                "commandId {} was already used for a different command",
                message.command_id
            )));
        }
        answers::kept_reply(message.command_id, kept.status, kept.response)
            .map(Some)
            .map_err(|e| {
                HandlerError::Permanent(anyhow::anyhow!("a kept answer does not decode: {e}"))
            })
    }

    /// Answers a failed command: a refusal is kept and announced, the rest is retried or
    /// dead-lettered.
    async fn refuse(
        &self,
        received: &Received<CommandMessage>,
        key: &IdempotencyKey,
        correlation_id: String,
        error: ServiceError,
    ) -> Result<CommandReply, HandlerError> {
        let message = &received.message;
        match answers::verdict(error, message.expected_version) {
            Verdict::Rejected(rejection) => {
                tracing::info!(command_id = %message.command_id, code = %rejection.code, "command refused");
                if self
                    .keep_rejection(received, key, &rejection, correlation_id)
                    .await
                    .map_err(transient)?
                {
                    Ok(answers::rejected(message.command_id, &rejection))
                } else {
                    // Another delivery of the same command answered first: its answer holds.
                    self.kept_reply(message, key).await?.ok_or_else(|| {
                        transient(sqlx::Error::Protocol("a kept answer vanished".into()))
                    })
                }
            }
            Verdict::Retry(error) => Err(HandlerError::Transient(error.into())),
            Verdict::Broken(error) => Err(HandlerError::Permanent(error.into())),
        }
    }

    /// Keeps the refusal for the `commandId` and puts COMMAND_REJECTED in the outbox, in one
    /// transaction; `false` if an answer was kept for it first.
    async fn keep_rejection(
        &self,
        received: &Received<CommandMessage>,
        key: &IdempotencyKey,
        rejection: &Rejection,
        correlation_id: String,
    ) -> Result<bool, sqlx::Error> {
        let now = Utc::now().trunc_subsecs(6);
        let event = answers::rejected_event(
            &received.message,
            received.message_id.as_deref(),
            rejection,
            correlation_id,
            now,
        );
        let kept = serde_json::to_value(KeptRejection::from(rejection))
            .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let mut tx = self.pool.begin().await?;
        let answer = idempotency::Answer {
            key: key.key.clone(),
            request: key.request.clone(),
            status: rejection.status,
            response: kept,
        };
        if !idempotency::record(&mut tx, &answer).await? {
            return Ok(false);
        }
        shared::outbox::enqueue(&mut tx, std::slice::from_ref(&event)).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Sends `reply` to the message's `reply_to` with its `correlation_id` (the `commandId`
    /// if it had none). A reply queue that no longer exists is the sender's loss, not a
    /// failure of the command: logged, and the command is done.
    async fn send_reply(
        &self,
        received: &Received<CommandMessage>,
        reply: &CommandReply,
    ) -> Result<(), HandlerError> {
        let Some(reply_to) = received.reply_to.as_deref() else {
            return Ok(());
        };
        let correlation = received
            .correlation_id
            .clone()
            .unwrap_or_else(|| received.message.command_id.to_string());
        let payload = serde_json::to_vec(reply).map_err(|e| HandlerError::Permanent(e.into()))?;
        let properties = properties::for_reply(&correlation, SERVICE, "complaint.command.reply");
        let sent = self
            .publisher
            .send(vec![Outgoing {
                exchange: "",
                routing_key: reply_to,
                payload: &payload,
                properties,
            }])
            .await;
        match sent {
            Ok(()) => Ok(()),
            Err(error @ (PublishError::Unroutable { .. } | PublishError::Refused(_))) => {
                tracing::warn!(%error, reply_to, "the reply could not be delivered; dropped");
                Ok(())
            }
            Err(error) => Err(HandlerError::Transient(error.into())),
        }
    }
}

fn transient(error: sqlx::Error) -> HandlerError {
    HandlerError::Transient(error.into())
}
