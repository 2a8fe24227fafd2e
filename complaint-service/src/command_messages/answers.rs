//! What a command message comes to, without IO: the domain command it asks for, what a
//! failure means (refused and answered, tried again, or dead-lettered), the reply, the
//! COMMAND_REJECTED event, and how an answer is kept for the `commandId`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use shared::{
    complaint::{Command, DomainError, ValidationError},
    event::{
        command::{CommandMessage, CommandRejected, CommandReply, ComplaintCommand, RejectionKind},
        errors::{ErrorKind, ErrorReport, FailingMessage},
        Envelope, EventType, Metadata,
    },
    http::ApiError,
};
use uuid::Uuid;

use crate::{
    commands::{CommandContext, CommandResult, IdempotencyKey},
    config::SERVICE,
    error::ServiceError,
};

/// The domain command and the complaint it is for (a new id for a create). Values are parsed
/// here, as the REST routes parse their bodies: a bad one is refused, naming its field.
pub fn domain_command(message: &CommandMessage) -> Result<(Uuid, Command), ValidationError> {
    let command = match &message.command {
        ComplaintCommand::Create(body) => body.clone().into_command()?,
        ComplaintCommand::Assign(body) => body.clone().into_command()?,
        ComplaintCommand::Process => Command::Process,
        ComplaintCommand::Resolve(body) => body.clone().into_command()?,
        ComplaintCommand::Close => Command::Close,
        ComplaintCommand::Reopen(body) => body.clone().into_command()?,
        ComplaintCommand::ChangePriority(body) => body.clone().into_command()?,
    };
    Ok((message.complaint_id.unwrap_or_else(Uuid::now_v7), command))
}

/// The correlation id of everything the command causes: its own, else the AMQP one, else
/// the command's id.
pub fn correlation_id(message: &CommandMessage, amqp: Option<&str>) -> String {
    message
        .correlation_id
        .clone()
        .or_else(|| amqp.map(str::to_owned))
        .unwrap_or_else(|| message.command_id.to_string())
}

pub fn context(message: &CommandMessage, correlation_id: String) -> CommandContext {
    CommandContext::new(correlation_id)
        .identified_by(message.command_id)
        .with_user(message.actor.clone())
        .expecting(message.expected_version)
}

/// The idempotency key of a command: its `commandId`, in a namespace of its own so that no
/// `Idempotency-Key` of the REST API can match it. The request compared on a repeat is what
/// the command asks (not its correlation or causation, which a re-send may renew).
pub fn key(message: &CommandMessage) -> IdempotencyKey {
    let mut request = serde_json::to_value(message).unwrap_or(Value::Null);
    if let Some(fields) = request.as_object_mut() {
        fields.remove("correlationId");
        fields.remove("causationId");
    }
    IdempotencyKey {
        key: format!("command:{}", message.command_id),
        request: json!({ "commandMessage": request }),
    }
}

/// A refusal, as it is answered and kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub code: String,
    pub reason: String,
    pub kind: RejectionKind,
    /// The HTTP status the REST route answers the same refusal with (kept with the answer).
    pub status: u16,
}

/// What a failed command comes to.
#[derive(Debug)]
pub enum Verdict {
    /// The domain refuses it: answer, and publish COMMAND_REJECTED.
    Rejected(Rejection),
    /// Worth another try (the database is down, a concurrent writer won the race).
    Retry(ServiceError),
    /// Never going to work, and not the sender's doing: dead-letter it.
    Broken(ServiceError),
}

/// A version conflict is the sender's only if it named the version it expected; without
/// one, another writer got there first and the next try reads the newer version.
pub fn verdict(error: ServiceError, expected_version: Option<i64>) -> Verdict {
    let kind = match &error {
        ServiceError::Invalid(_) => RejectionKind::Validation,
        ServiceError::Refused(DomainError::DoesNotExist) | ServiceError::NotFound(_) => {
            RejectionKind::NotFound
        }
        ServiceError::Refused(_) => RejectionKind::BusinessRule,
        ServiceError::VersionConflict { .. } if expected_version.is_some() => {
            RejectionKind::VersionConflict
        }
        ServiceError::VersionConflict { .. } | ServiceError::Database(_) => {
            return Verdict::Retry(error)
        }
        _ => return Verdict::Broken(error),
    };
    let answer = ApiError::from(error);
    Verdict::Rejected(Rejection {
        code: answer.code.to_owned(),
        reason: answer.message,
        kind,
        status: answer.status.as_u16(),
    })
}

pub fn accepted(result: &CommandResult) -> CommandReply {
    CommandReply::Accepted {
        command_id: result.command_id,
        id: result.id,
        version: result.version,
    }
}

pub fn rejected(command_id: Uuid, rejection: &Rejection) -> CommandReply {
    CommandReply::Rejected {
        command_id,
        code: rejection.code.clone(),
        reason: rejection.reason.clone(),
    }
}

/// A refusal as the idempotency store keeps it (an acceptance is kept as its
/// [`CommandResult`], by the command handler).
#[derive(Debug, Serialize, Deserialize)]
pub struct KeptRejection {
    pub code: String,
    pub reason: String,
}

impl From<&Rejection> for KeptRejection {
    fn from(rejection: &Rejection) -> Self {
        Self {
            code: rejection.code.clone(),
            reason: rejection.reason.clone(),
        }
    }
}

/// The reply given the first time, from what the idempotency store kept.
pub fn kept_reply(
    command_id: Uuid,
    status: i16,
    response: Value,
) -> Result<CommandReply, serde_json::Error> {
    if status < 400 {
        let result: CommandResult = serde_json::from_value(response)?;
        Ok(accepted(&result))
    } else {
        let kept: KeptRejection = serde_json::from_value(response)?;
        Ok(CommandReply::Rejected {
            command_id,
            code: kept.code,
            reason: kept.reason,
        })
    }
}

/// COMMAND_REJECTED for `message`: a stream of its own (the command's id, version 1), caused
/// by the command, carrying its correlation and actor.
pub fn rejected_event(
    message: &CommandMessage,
    message_id: Option<&str>,
    rejection: &Rejection,
    correlation_id: String,
    now: DateTime<Utc>,
) -> Envelope {
    let failing = FailingMessage {
        message_id: message_id.map(str::to_owned),
        aggregate_id: message.complaint_id.map(|id| id.to_string()),
        correlation_id: Some(correlation_id.clone()),
        ..FailingMessage::default()
    };
    let detail = CommandRejected {
        command_id: message.command_id,
        command_type: message.command.command_type(),
        complaint_id: message.complaint_id,
        code: rejection.code.clone(),
        reason: rejection.reason.clone(),
        rejection: rejection.kind,
        causation_id: message.causation_id.clone(),
    };
    let report = ErrorReport::new(ErrorKind::Validation, SERVICE, failing, detail);
    let metadata = Metadata::new(SERVICE, correlation_id, now)
        .with_version(1)
        .with_causation(message.command_id.to_string());
    let metadata = match &message.actor {
        Some(actor) => metadata.with_user(actor.clone()),
        None => metadata,
    };
    Envelope::new(
        EventType::CommandRejected,
        message.command_id.to_string(),
        CommandRejected::AGGREGATE_TYPE,
        report.to_value(),
        metadata,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::complaint::Status;

    fn message(value: Value) -> CommandMessage {
        serde_json::from_value(value).expect("a command message")
    }

    fn close(id: Uuid) -> CommandMessage {
        message(json!({
            "commandId": Uuid::now_v7(), "type": "complaint.close", "complaintId": id,
            "correlationId": "corr-1", "actor": "agent-7"
        }))
    }

    #[test]
    fn a_refusal_is_answered_with_the_code_of_the_rest_route() {
        let refused = ServiceError::Refused(DomainError::InvalidTransition {
            from: Status::Open,
            action: "close",
        });
        let Verdict::Rejected(rejection) = verdict(refused, None) else {
            panic!("not rejected");
        };
        assert_eq!(rejection.code, "INVALID_TRANSITION");
        assert_eq!(rejection.kind, RejectionKind::BusinessRule);
        assert_eq!(rejection.status, 409);
    }

    #[test]
    fn a_version_conflict_is_refused_only_if_the_sender_expected_a_version() {
        let conflict = || ServiceError::VersionConflict {
            expected: 1,
            current: 2,
        };
        assert!(matches!(
            verdict(conflict(), Some(1)),
            Verdict::Rejected(Rejection {
                kind: RejectionKind::VersionConflict,
                ..
            })
        ));
        assert!(matches!(verdict(conflict(), None), Verdict::Retry(_)));
        assert!(matches!(
            verdict(ServiceError::Inconsistent("bug"), None),
            Verdict::Broken(_)
        ));
    }

    #[test]
    fn a_kept_answer_gives_the_same_reply_again() {
        let command_id = Uuid::now_v7();
        let rejection = Rejection {
            code: "INVALID_TRANSITION".into(),
            reason: "cannot close a complaint that is OPEN".into(),
            kind: RejectionKind::BusinessRule,
            status: 409,
        };
        let kept = serde_json::to_value(KeptRejection::from(&rejection)).unwrap();
        assert_eq!(
            kept_reply(command_id, 409, kept).unwrap(),
            rejected(command_id, &rejection)
        );
    }

    #[test]
    fn the_key_ignores_correlation_but_not_what_is_asked() {
        let id = Uuid::now_v7();
        let first = close(id);
        let mut resent = first.clone();
        resent.correlation_id = Some("corr-2".into());
        assert_eq!(key(&first).request, key(&resent).request);
        assert_eq!(key(&first).key, format!("command:{}", first.command_id));
        let mut other = first.clone();
        other.complaint_id = Some(Uuid::now_v7());
        assert_ne!(key(&first).request, key(&other).request);
    }

    #[test]
    fn the_rejection_event_is_a_low_severity_error_caused_by_the_command() {
        let message = close(Uuid::now_v7());
        let rejection = Rejection {
            code: "INVALID_TRANSITION".into(),
            reason: "no".into(),
            kind: RejectionKind::BusinessRule,
            status: 409,
        };
        let event = rejected_event(
            &message,
            Some("m-1"),
            &rejection,
            "corr-1".into(),
            Utc::now(),
        );
        assert_eq!(event.known_type(), Some(EventType::CommandRejected));
        assert_eq!(event.aggregate_id, message.command_id.to_string());
        assert_eq!(event.metadata.version, 1);
        assert_eq!(
            event.metadata.causation_id,
            Some(message.command_id.to_string())
        );
        assert_eq!(event.metadata.user_id.as_deref(), Some("agent-7"));
        let data: ErrorReport<CommandRejected> = serde_json::from_value(event.event_data).unwrap();
        assert_eq!(data.severity, shared::event::errors::Severity::Low);
        assert_eq!(data.kind, ErrorKind::Validation);
        assert!(!data.retryable);
        assert_eq!(data.failing_message.message_id.as_deref(), Some("m-1"));
        assert_eq!(data.detail.rejection, RejectionKind::BusinessRule);
    }
}
