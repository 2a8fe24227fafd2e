//! Commands as messages: what someone wants done to a complaint, sent to the exchange
//! [`super::exchanges::COMMANDS`] instead of over HTTP, and what comes back.
//!
//! ```json
//! { "commandId": "0192…", "type": "complaint.assign", "complaintId": "0192…",
//!   "expectedVersion": 1, "correlationId": "corr-7", "causationId": "…",
//!   "actor": "agent-007", "payload": { "agentId": "agent-001" } }
//! ```
//!
//! The routing key is the `type`. The `payload` is the body of the REST route of the same
//! command ([`crate::complaint::requests`]); `process` and `close` take none (absent, `null`
//! or `{}`). Everything is checked when the message is decoded: a message that does not have
//! this shape (an unknown type or field, a payload of another command, a create that names
//! a complaint, a transition that does not) is malformed and goes to the dead-letter queue
//! with the reason. Values are checked as for the REST routes (a title too short is refused
//! with the same code), by the service, which answers.
//!
//! The answer ([`CommandReply`]) goes to the AMQP `reply_to` queue if the message names one,
//! with its `correlation_id`; a refusal is also published as COMMAND_REJECTED
//! ([`CommandRejected`]) on `errors.events`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::complaint::requests::{
    AssignRequest, ChangePriorityRequest, CreateComplaintRequest, EmptyRequest, ReopenRequest,
    ResolveRequest,
};

crate::wire_enum!(
    /// The command types, in the seed's dotted form; each is also its routing key on
    /// [`super::exchanges::COMMANDS`].
    CommandType, "lowercase" {
        Create => "complaint.create",
        Assign => "complaint.assign",
        Process => "complaint.process",
        Resolve => "complaint.resolve",
        Close => "complaint.close",
        Reopen => "complaint.reopen",
        ChangePriority => "complaint.priority",
    }
);

/// The binding that takes every complaint command (and, so that they reach the DLQ rather
/// than vanish, unknown `complaint.*` types).
pub const COMPLAINT_COMMANDS: &str = "complaint.*";

/// What to do, with its payload, typed by the command's type.
#[derive(Debug, Clone, PartialEq)]
pub enum ComplaintCommand {
    Create(CreateComplaintRequest),
    Assign(AssignRequest),
    Process,
    Resolve(ResolveRequest),
    Close,
    Reopen(ReopenRequest),
    ChangePriority(ChangePriorityRequest),
}

impl ComplaintCommand {
    pub const fn command_type(&self) -> CommandType {
        match self {
            Self::Create(_) => CommandType::Create,
            Self::Assign(_) => CommandType::Assign,
            Self::Process => CommandType::Process,
            Self::Resolve(_) => CommandType::Resolve,
            Self::Close => CommandType::Close,
            Self::Reopen(_) => CommandType::Reopen,
            Self::ChangePriority(_) => CommandType::ChangePriority,
        }
    }
}

/// One command message, decoded and checked for shape (see the module's documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "WireCommand", into = "WireCommand")]
pub struct CommandMessage {
    /// Unique per command: a command sent again with the same id acts once and gets the
    /// same answer. The `causationId` of the events it records.
    pub command_id: Uuid,
    /// The complaint it acts on; `None` for a create (the service gives the new id).
    pub complaint_id: Option<Uuid>,
    /// Act only if the complaint is at this version (as `If-Match`).
    pub expected_version: Option<i64>,
    /// Carried by every event the command causes; the AMQP `correlation_id` when absent.
    pub correlation_id: Option<String>,
    /// What caused the command (an event or another command), for the record.
    pub causation_id: Option<String>,
    /// Who asks: the `userId` of the events. No token is checked on this path; RabbitMQ's
    /// permissions on `complaints.commands` decide who may send commands at all.
    pub actor: Option<String>,
    pub command: ComplaintCommand,
}

const MAX_ACTOR: usize = 100;
const MAX_ID: usize = 255;

/// The message as JSON has it, before its payload is typed by its `type`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct WireCommand {
    command_id: Uuid,
    #[serde(rename = "type")]
    command_type: CommandType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    complaint_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expected_version: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    correlation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    causation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    actor: Option<String>,
    #[serde(default, skip_serializing_if = "Value::is_null")]
    payload: Value,
}

impl TryFrom<WireCommand> for CommandMessage {
    type Error = String;

    fn try_from(wire: WireCommand) -> Result<Self, Self::Error> {
        let command_type = wire.command_type;
        let command = typed_payload(command_type, wire.payload)?;
        match (command_type, wire.complaint_id) {
            (CommandType::Create, Some(_)) => {
                return Err("complaint.create names no complaintId: the service gives one".into())
            }
            (CommandType::Create, None) | (_, Some(_)) => {}
            (other, None) => return Err(format!("{} needs a complaintId", other.as_str())),
        }
        if wire.expected_version.is_some_and(|v| v < 0) {
            return Err("expectedVersion must be 0 or more".into());
        }
        check_text("actor", wire.actor.as_deref(), MAX_ACTOR)?;
        check_text("correlationId", wire.correlation_id.as_deref(), MAX_ID)?;
        check_text("causationId", wire.causation_id.as_deref(), MAX_ID)?;
        Ok(Self {
            command_id: wire.command_id,
            complaint_id: wire.complaint_id,
            expected_version: wire.expected_version,
            correlation_id: wire.correlation_id,
            causation_id: wire.causation_id,
            actor: wire.actor,
            command,
        })
    }
}

/// The payload as the body its type takes; unknown fields refused as in the REST bodies.
fn typed_payload(command_type: CommandType, payload: Value) -> Result<ComplaintCommand, String> {
    fn body<T: serde::de::DeserializeOwned>(payload: Value) -> Result<T, String> {
        serde_json::from_value(payload).map_err(|e| format!("payload: {e}"))
    }
    Ok(match command_type {
        CommandType::Create => ComplaintCommand::Create(body(payload)?),
        CommandType::Assign => ComplaintCommand::Assign(body(payload)?),
        CommandType::Process => {
            body::<Option<EmptyRequest>>(payload)?;
            ComplaintCommand::Process
        }
        CommandType::Resolve => ComplaintCommand::Resolve(body(payload)?),
        CommandType::Close => {
            body::<Option<EmptyRequest>>(payload)?;
            ComplaintCommand::Close
        }
        CommandType::Reopen => ComplaintCommand::Reopen(body(payload)?),
        CommandType::ChangePriority => ComplaintCommand::ChangePriority(body(payload)?),
    })
}

/// A bounded id or name of visible ASCII, as the HTTP headers that carry the same take.
fn check_text(field: &str, value: Option<&str>, max: usize) -> Result<(), String> {
    match value {
        Some(v) if v.is_empty() || v.len() > max || !v.chars().all(|c| c.is_ascii_graphic()) => {
            Err(format!(
                "{field} must have 1 to {max} visible ASCII characters"
            ))
        }
        _ => Ok(()),
    }
}

impl From<CommandMessage> for WireCommand {
    fn from(message: CommandMessage) -> Self {
        let command_type = message.command.command_type();
        let payload = match message.command {
            ComplaintCommand::Create(body) => serde_json::to_value(body),
            ComplaintCommand::Assign(body) => serde_json::to_value(body),
            ComplaintCommand::Resolve(body) => serde_json::to_value(body),
            ComplaintCommand::Reopen(body) => serde_json::to_value(body),
            ComplaintCommand::ChangePriority(body) => serde_json::to_value(body),
            ComplaintCommand::Process | ComplaintCommand::Close => Ok(Value::Null),
        }
        // Plain structs of strings and enums always encode.
        .unwrap_or(Value::Null);
        Self {
            command_id: message.command_id,
            command_type,
            complaint_id: message.complaint_id,
            expected_version: message.expected_version,
            correlation_id: message.correlation_id,
            causation_id: message.causation_id,
            actor: message.actor,
            payload,
        }
    }
}

/// The answer to a command message, sent to its `reply_to`:
/// `{"commandId", "status": "accepted", "id", "version"}` or
/// `{"commandId", "status": "rejected", "code", "reason"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum CommandReply {
    #[serde(rename_all = "camelCase")]
    Accepted {
        command_id: Uuid,
        /// The complaint.
        id: Uuid,
        /// Its version after the command: `minVersion` to read it back.
        version: i64,
    },
    #[serde(rename_all = "camelCase")]
    Rejected {
        command_id: Uuid,
        /// The code the REST route answers with (`INVALID_TRANSITION`, `VALIDATION_FAILED`…).
        code: String,
        reason: String,
    },
}

crate::wire_enum!(
    /// Why the domain refused a command.
    RejectionKind, "snake_case" {
        /// A value breaks its rules (a title too short).
        Validation => "validation",
        /// The complaint's state does not allow it (close an OPEN complaint).
        BusinessRule => "business_rule",
        /// `expectedVersion` is not the complaint's version.
        VersionConflict => "version_conflict",
        /// No complaint has the id.
        NotFound => "not_found",
    }
);

/// What COMMAND_REJECTED says beyond the fields of every error event: its `eventData` is an
/// [`super::errors::ErrorReport`] of kind VALIDATION (severity LOW, not retryable: the same
/// command is refused again) around this. Each rejection is a stream of its own: aggregate
/// type [`CommandRejected::AGGREGATE_TYPE`], aggregate id the `commandId`, version 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandRejected {
    pub command_id: Uuid,
    pub command_type: CommandType,
    #[serde(default)]
    pub complaint_id: Option<Uuid>,
    pub code: String,
    pub reason: String,
    /// Which rule refused it (the error report's `kind` is VALIDATION for all of them).
    pub rejection: RejectionKind,
    /// The command's own `causationId`, if it named one.
    #[serde(default)]
    pub causation_id: Option<String>,
}

impl CommandRejected {
    pub const AGGREGATE_TYPE: &'static str = "Command";
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decode(value: Value) -> Result<CommandMessage, String> {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    fn assign() -> Value {
        json!({
            "commandId": Uuid::now_v7(), "type": "complaint.assign",
            "complaintId": Uuid::now_v7(), "expectedVersion": 1, "actor": "agent-7",
            "payload": { "agentId": "agent-001" }
        })
    }

    #[test]
    fn a_command_decodes_with_its_typed_payload_and_encodes_back_the_same() {
        let wire = assign();
        let message = decode(wire.clone()).unwrap();
        assert_eq!(
            message.command,
            ComplaintCommand::Assign(AssignRequest {
                agent_id: "agent-001".into()
            })
        );
        assert_eq!(message.expected_version, Some(1));
        assert_eq!(serde_json::to_value(&message).unwrap(), wire);
    }

    #[test]
    fn process_and_close_take_no_payload_or_an_empty_one() {
        for payload in [None, Some(json!(null)), Some(json!({}))] {
            let mut wire = json!({
                "commandId": Uuid::now_v7(), "type": "complaint.close", "complaintId": Uuid::now_v7()
            });
            if let Some(payload) = payload {
                wire["payload"] = payload;
            }
            assert_eq!(decode(wire).unwrap().command, ComplaintCommand::Close);
        }
    }

    #[test]
    fn malformed_commands_are_refused_with_the_reason() {
        let cases = [
            (json!({"type": "complaint.close"}), "commandId"),
            (
                json!({"commandId": Uuid::now_v7(), "type": "complaint.explode", "complaintId": Uuid::now_v7()}),
                "unknown variant",
            ),
            (
                json!({"commandId": Uuid::now_v7(), "type": "complaint.assign", "complaintId": Uuid::now_v7(), "payload": {"agent": "a"}}),
                "payload: unknown field",
            ),
            (
                json!({"commandId": Uuid::now_v7(), "type": "complaint.close", "complaintId": Uuid::now_v7(), "payload": {"x": 1}}),
                "payload: unknown field",
            ),
            (
                json!({"commandId": Uuid::now_v7(), "type": "complaint.assign", "payload": {"agentId": "a"}}),
                "needs a complaintId",
            ),
            (
                json!({"commandId": Uuid::now_v7(), "type": "complaint.close", "complaintId": Uuid::now_v7(), "colour": "red"}),
                "unknown field `colour`",
            ),
            (
                json!({"commandId": Uuid::now_v7(), "type": "complaint.close", "complaintId": Uuid::now_v7(), "expectedVersion": -1}),
                "expectedVersion",
            ),
            (
                json!({"commandId": Uuid::now_v7(), "type": "complaint.close", "complaintId": Uuid::now_v7(), "actor": "a b"}),
                "actor",
            ),
        ];
        for (wire, expected) in cases {
            let error = decode(wire.clone()).unwrap_err();
            assert!(error.contains(expected), "{wire}: {error}");
        }
    }

    #[test]
    fn every_type_is_its_wire_name() {
        for t in CommandType::ALL {
            assert_eq!(serde_json::to_value(t).unwrap(), json!(t.as_str()));
            assert!(t.as_str().starts_with("complaint."));
        }
    }

    #[test]
    fn replies_say_accepted_or_rejected() {
        let command_id = Uuid::now_v7();
        let reply = CommandReply::Rejected {
            command_id,
            code: "INVALID_TRANSITION".into(),
            reason: "cannot close".into(),
        };
        assert_eq!(
            serde_json::to_value(&reply).unwrap(),
            json!({"status": "rejected", "commandId": command_id, "code": "INVALID_TRANSITION", "reason": "cannot close"})
        );
    }
}
