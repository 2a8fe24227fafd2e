//! The command side: each command in one transaction — load the complaint (its latest
//! snapshot and the events after it), decide with the pure aggregate, append the new events
//! under the expected version, put them in the outbox, keep a new snapshot when one is due,
//! commit. A create, which loads nothing, is one statement instead, shared with the creates
//! that wait with it (`store::group_commit`). A concurrent writer
//! loses on the unique (aggregate_id, version) and gets a version conflict; nothing is
//! published unless the events committed.

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared::{
    auth::Principal,
    complaint::{
        decide, evolve, snapshot, AgentId, Command, Complaint, ComplaintEvent, EventCodec, Policy,
        Priority, Recorded, Status,
    },
    event::{Envelope, Metadata},
};
use sqlx::{PgPool, Postgres, Transaction};
use std::{sync::Arc, time::Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    access::{self, Refusal},
    config::SERVICE,
    error::ServiceError,
    metrics,
    projection::projector::ProjectionSignals,
    store::{
        events::{self, Appended, NewStream, Started, StreamEvent},
        group_commit::GroupCommit,
        idempotency::{self, Answer},
        snapshots,
    },
};

/// Who asks, why, and against which version.
#[derive(Debug, Clone)]
pub struct CommandContext {
    /// The command's own id: the `causationId` of the events it records.
    pub command_id: Uuid,
    pub correlation_id: String,
    /// Who acts (a token's `sub`), recorded as the events' `userId`.
    pub user_id: Option<String>,
    /// The caller whose rights the command is checked against (`access::may_run`); `None`
    /// for the suite's own commands (sagas, SLA timers).
    actor: Option<Principal>,
    /// The version the client last saw (`If-Match`); `None` to act on the latest.
    pub expected_version: Option<i64>,
    reacting_to: Option<Reaction>,
}

/// The event a command reacts to (sagas): it is handled once per consumer, recorded in the
/// inbox in the command's transaction.
#[derive(Debug, Clone)]
struct Reaction {
    consumer: &'static str,
    event_id: Uuid,
}

impl CommandContext {
    pub fn new(correlation_id: String) -> Self {
        Self {
            command_id: Uuid::now_v7(),
            correlation_id,
            user_id: None,
            actor: None,
            expected_version: None,
            reacting_to: None,
        }
    }

    /// A command that brings its own id (a command message's `commandId`).
    pub fn identified_by(self, command_id: Uuid) -> Self {
        Self { command_id, ..self }
    }

    /// A command recorded as `user_id`'s, with no token to check: a command message, whose
    /// sender RabbitMQ's permissions on `complaints.commands` vouch for.
    pub fn with_user(self, user_id: Option<String>) -> Self {
        Self { user_id, ..self }
    }

    /// A command of `actor`: recorded as its `sub`, allowed only as its roles allow.
    pub fn by(self, actor: Principal) -> Self {
        Self {
            user_id: Some(actor.subject.clone()),
            actor: Some(actor),
            ..self
        }
    }

    pub fn expecting(self, expected_version: Option<i64>) -> Self {
        Self {
            expected_version,
            ..self
        }
    }

    /// A command issued by `consumer` in reaction to `event`: same correlation and user, the
    /// event as its cause, and handled at most once (see [`CommandService::execute_once`]).
    pub fn caused_by(event: &Envelope, consumer: &'static str) -> Self {
        Self {
            command_id: Uuid::now_v7(),
            correlation_id: event.metadata.correlation_id.clone(),
            user_id: event.metadata.user_id.clone(),
            actor: None,
            expected_version: None,
            reacting_to: Some(Reaction {
                consumer,
                event_id: event.event_id,
            }),
        }
    }

    fn causation_id(&self) -> String {
        match &self.reacting_to {
            Some(reaction) => reaction.event_id.to_string(),
            None => self.command_id.to_string(),
        }
    }

    fn metadata(&self, version: i64, now: DateTime<Utc>) -> Metadata {
        let metadata = Metadata::new(SERVICE, self.correlation_id.clone(), now)
            .with_version(version)
            .with_causation(self.causation_id());
        match &self.user_id {
            Some(user) => metadata.with_user(user.clone()),
            None => metadata,
        }
    }
}

/// What a command did: the complaint's new version and state, and the events it recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommandResult {
    pub id: Uuid,
    /// The complaint's version now; pass it as `minVersion` to read your write, or as
    /// `If-Match` to act only if nobody changed it since.
    pub version: i64,
    pub status: Status,
    pub priority: Priority,
    #[serde(default)]
    pub assignee: Option<AgentId>,
    pub command_id: Uuid,
    pub events: Vec<RecordedEventRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordedEventRef {
    pub event_id: Uuid,
    #[schema(example = "COMPLAINT_CREATED")]
    pub event_type: String,
    pub version: i64,
}

/// An `Idempotency-Key` with the request it came with.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub key: String,
    /// The request in a normal form: a retry must send the same one.
    pub request: Value,
}

/// The answer to a create (or a keyed command): new, or the one given before to the same key
/// and request.
#[derive(Debug)]
pub enum Created {
    New(CommandResult),
    Replayed(CommandResult),
}

/// What became of a command reacting to an event.
#[derive(Debug)]
pub enum Handled {
    Done(CommandResult),
    /// This consumer had handled the event before (a redelivery): nothing was done.
    AlreadyHandled,
}

enum Ran {
    Done(CommandResult),
    /// Another request with the same Idempotency-Key committed first.
    KeyTaken,
    AlreadyHandled,
}

#[derive(Clone)]
pub struct CommandService {
    pool: PgPool,
    /// Where creates by callers go to be written together (`store::group_commit`).
    creates: GroupCommit,
    policy: Policy,
    signals: ProjectionSignals,
    /// A new snapshot once this many events followed the last one; 0: no snapshots.
    snapshot_every: u32,
    /// The API's instance takes a permit for each use of a connection, so requests never
    /// hold more than their share of the pool; the consumers' instance has none. Creates
    /// need none: the group commit's writers hold a few connections whatever the load.
    admission: Option<Arc<Semaphore>>,
}

/// A complaint as loaded for a command, and the version its snapshot covers (0: none).
struct Loaded {
    state: Complaint,
    snapshot_version: i64,
}

impl Loaded {
    /// The state a create starts from.
    fn new_complaint(id: Uuid) -> Self {
        Self {
            state: Complaint::empty(id.to_string()),
            snapshot_version: 0,
        }
    }
}

impl CommandService {
    /// A command service, with the writers of its group commit spawned on the current runtime.
    /// Its clones share them.
    pub fn new(pool: PgPool, policy: Policy, signals: ProjectionSignals) -> Self {
        Self {
            creates: GroupCommit::spawn(pool.clone()),
            pool,
            policy,
            signals,
            snapshot_every: 0,
            admission: None,
        }
    }

    /// Uses at most `connections` of the pool's connections at once (the API's share, see
    /// `DatabaseSettings::reserved_for_background`); commands beyond wait for a turn.
    pub fn sharing(self, connections: usize) -> Self {
        Self {
            admission: Some(Arc::new(Semaphore::new(connections))),
            ..self
        }
    }

    /// A turn to use a connection, when this instance is limited.
    async fn admitted(&self) -> Option<OwnedSemaphorePermit> {
        let admission = self.admission.clone()?;
        // The semaphore is never closed.
        admission.acquire_owned().await.ok()
    }

    /// Loads complaints from snapshots, and keeps one every `every` events (0: never).
    pub fn snapshot_every(self, every: u32) -> Self {
        Self {
            snapshot_every: every,
            ..self
        }
    }

    /// Creates a complaint with a new id. With a key, a retry gets the first answer again.
    pub async fn create(
        &self,
        command: Command,
        context: &CommandContext,
        key: Option<IdempotencyKey>,
    ) -> Result<Created, ServiceError> {
        let started = Instant::now();
        let created = self.once(Uuid::now_v7(), command, context, key).await;
        let outcome = match &created {
            Ok(Created::New(_)) => "success",
            Ok(Created::Replayed(_)) => "replayed",
            Err(error) => error.outcome(),
        };
        metrics::command_executed("create", outcome, started.elapsed());
        created
    }

    /// Runs `command` on complaint `id` (a new one for a create) once per `key`, as
    /// [`CommandService::create`] does: the key seen before with the same request gets the
    /// first answer again and nothing is done. Command messages use their `commandId`.
    pub async fn execute_keyed(
        &self,
        id: Uuid,
        command: Command,
        context: &CommandContext,
        key: IdempotencyKey,
    ) -> Result<Created, ServiceError> {
        let label = label(&command);
        let started = Instant::now();
        let done = self.once(id, command, context, Some(key)).await;
        let outcome = match &done {
            Ok(Created::New(_)) => "success",
            Ok(Created::Replayed(_)) => "replayed",
            Err(error) => error.outcome(),
        };
        metrics::command_executed(label, outcome, started.elapsed());
        done
    }

    async fn once(
        &self,
        id: Uuid,
        command: Command,
        context: &CommandContext,
        key: Option<IdempotencyKey>,
    ) -> Result<Created, ServiceError> {
        // Before a replay too: an answer given to one caller is not another's to read.
        authorize(context, Uuid::nil(), &command, &Complaint::empty(""))?;
        // A create cannot fail on state, so it need not look for an earlier answer first:
        // a retry finds its key taken inside the transaction, which then rolls back (one
        // statement less per create). A command on an existing complaint must look first:
        // retried after it succeeded, it would be refused by the state it left.
        let creating = matches!(command, Command::Create { .. });
        if let Some(key) = key.as_ref().filter(|_| !creating) {
            if let Some(previous) = self.previous_answer(key).await? {
                return Ok(previous);
            }
        }
        match self.run(id, command, context, key.as_ref()).await? {
            Ran::Done(result) => Ok(Created::New(result)),
            Ran::KeyTaken | Ran::AlreadyHandled => match &key {
                Some(key) => self
                    .previous_answer(key)
                    .await?
                    .ok_or(ServiceError::Inconsistent(
                        "an idempotency key taken but not found",
                    )),
                None => Err(ServiceError::Inconsistent(
                    "a create without a key found one taken",
                )),
            },
        }
    }

    /// The answer stored for `key`, if any; an error if it was for another request.
    async fn previous_answer(&self, key: &IdempotencyKey) -> Result<Option<Created>, ServiceError> {
        let admitted = self.admitted().await;
        let stored = idempotency::find(&self.pool, &key.key).await?;
        drop(admitted);
        let Some(stored) = stored else {
            return Ok(None);
        };
        if stored.request != key.request {
            return Err(ServiceError::IdempotencyKeyReused);
        }
        let result: CommandResult = serde_json::from_value(stored.response)
            .map_err(|e| ServiceError::Database(sqlx::Error::Decode(Box::new(e))))?;
        Ok(Some(Created::Replayed(result)))
    }

    /// Runs `command` on complaint `id`.
    pub async fn execute(
        &self,
        id: Uuid,
        command: Command,
        context: &CommandContext,
    ) -> Result<CommandResult, ServiceError> {
        let label = label(&command);
        let started = Instant::now();
        let result = match self.run(id, command, context, None).await {
            Ok(Ran::Done(result)) => Ok(result),
            // Only with a reaction or a key, neither of which this path has.
            Ok(Ran::KeyTaken | Ran::AlreadyHandled) => Err(ServiceError::Inconsistent(
                "a command without a key or a cause was deduplicated",
            )),
            Err(error) => Err(error),
        };
        let outcome = result
            .as_ref()
            .map_or_else(ServiceError::outcome, |_| "success");
        metrics::command_executed(label, outcome, started.elapsed());
        result
    }

    /// Runs a command issued in reaction to an event ([`CommandContext::caused_by`]), at most
    /// once per consumer and event: a redelivered event finds its inbox entry and does nothing.
    pub async fn execute_once(
        &self,
        id: Uuid,
        command: Command,
        context: &CommandContext,
    ) -> Result<Handled, ServiceError> {
        let label = label(&command);
        let started = Instant::now();
        let handled = match self.run(id, command, context, None).await {
            Ok(Ran::Done(result)) => Ok(Handled::Done(result)),
            Ok(Ran::KeyTaken | Ran::AlreadyHandled) => Ok(Handled::AlreadyHandled),
            Err(error) => Err(error),
        };
        let outcome = match &handled {
            Ok(Handled::Done(_)) => "success",
            Ok(Handled::AlreadyHandled) => "duplicate",
            Err(error) => error.outcome(),
        };
        metrics::command_executed(label, outcome, started.elapsed());
        handled
    }

    /// Loads complaint `id` (unless `command` creates it), decides, and records what was
    /// decided. A create by a caller reads nothing, so it needs no transaction: it is recorded
    /// in one statement, shared with the creates waiting with it ([`GroupCommit`]). The other
    /// commands run in one transaction.
    async fn run(
        &self,
        id: Uuid,
        command: Command,
        context: &CommandContext,
        key: Option<&IdempotencyKey>,
    ) -> Result<Ran, ServiceError> {
        let creating = matches!(command, Command::Create { .. });
        if creating && context.reacting_to.is_none() {
            let decision = self.decide(id, Loaded::new_complaint(id), command, context)?;
            if !decision.snapshot_due {
                return self.start(id, decision, key).await;
            }
            let _admitted = self.admitted().await;
            let tx = events::begin(&self.pool).await?;
            return self.record(tx, id, decision, key).await;
        }
        let _admitted = self.admitted().await;
        let mut tx = events::begin(&self.pool).await?;
        if let Some(reaction) = &context.reacting_to {
            if !shared::inbox::first_time(&mut tx, reaction.consumer, reaction.event_id).await? {
                return Ok(Ran::AlreadyHandled);
            }
        }
        let loaded = if creating {
            Loaded::new_complaint(id)
        } else {
            self.load(&mut tx, id).await?
        };
        let decision = self.decide(id, loaded, command, context)?;
        self.record(tx, id, decision, key).await
    }

    /// What `command` does to the loaded complaint, if the caller may run it on that version.
    fn decide(
        &self,
        id: Uuid,
        loaded: Loaded,
        command: Command,
        context: &CommandContext,
    ) -> Result<Decision, ServiceError> {
        let Loaded {
            state,
            snapshot_version,
        } = loaded;
        authorize(context, id, &command, &state)?;
        let creating = matches!(command, Command::Create { .. });
        if let Some(expected) = context.expected_version {
            if state.exists() && expected != state.version {
                return Err(ServiceError::VersionConflict {
                    expected,
                    current: state.version,
                });
            }
        }
        // Microseconds, as PostgreSQL stores them: the published timestamp is the stored one.
        let now = Utc::now().trunc_subsecs(6);
        let decided = decide(&state, command, &self.policy, now)?;
        let envelopes: Vec<Envelope> = decided
            .iter()
            .zip(state.version + 1..)
            .map(|(event, version)| event.to_envelope(&state.id, context.metadata(version, now)))
            .collect();
        let read_version = state.version;
        let after = decided
            .iter()
            .fold(state, |state, event| evolve(state, event, now));
        let result = CommandResult::new(id, &after, context.command_id, &envelopes);
        Ok(Decision {
            snapshot_due: snapshot::is_due(self.snapshot_every, snapshot_version, after.version),
            envelopes,
            after,
            result,
            read_version,
            status: if creating { 201 } else { 200 },
        })
    }

    /// Records a decision in `tx`: the answer under its key, the events, their outbox rows, a
    /// snapshot when one is due; then commits.
    async fn record(
        &self,
        mut tx: Transaction<'static, Postgres>,
        id: Uuid,
        decision: Decision,
        key: Option<&IdempotencyKey>,
    ) -> Result<Ran, ServiceError> {
        // The key first: a retry of a create learns here, before any append, that it is one.
        if let Some(answer) = decision.answer(key)? {
            if !idempotency::record(&mut tx, &answer).await? {
                return Ok(Ran::KeyTaken);
            }
        }
        if events::append(&mut tx, id, &decision.envelopes).await? == Appended::VersionTaken {
            drop(tx);
            return Err(self.version_conflict(id, decision.read_version).await);
        }
        shared::outbox::enqueue(&mut tx, &decision.envelopes).await?;
        if decision.snapshot_due {
            let state = snapshot::encode(&decision.after);
            snapshots::save(
                &mut tx,
                id,
                decision.after.version,
                snapshot::STATE_VERSION,
                &state,
            )
            .await?;
        }
        tx.commit().await?;
        self.signals.wake();
        Ok(Ran::Done(decision.result))
    }

    /// Records a new complaint's decision in one statement, which other creates may share
    /// (see [`GroupCommit`]).
    async fn start(
        &self,
        id: Uuid,
        decision: Decision,
        key: Option<&IdempotencyKey>,
    ) -> Result<Ran, ServiceError> {
        let answer = decision.answer(key)?;
        let stream = NewStream {
            id,
            events: decision.envelopes,
            answer,
        };
        match self.creates.start(stream).await? {
            Started::Done => {
                self.signals.wake();
                Ok(Ran::Done(decision.result))
            }
            Started::KeyTaken => Ok(Ran::KeyTaken),
            Started::VersionTaken => Err(self.version_conflict(id, decision.read_version).await),
        }
    }

    /// The conflict of a command decided on `read_version` whose events found their version
    /// taken.
    async fn version_conflict(&self, id: Uuid, read_version: i64) -> ServiceError {
        match events::current_version(&self.pool, id).await {
            Ok(current) => ServiceError::VersionConflict {
                expected: read_version,
                current,
            },
            Err(error) => error.into(),
        }
    }
}

/// What a command decided, before it is recorded.
struct Decision {
    envelopes: Vec<Envelope>,
    /// The complaint after the events.
    after: Complaint,
    result: CommandResult,
    /// The version the decision was made on (0: a create).
    read_version: i64,
    /// The answer's status, should it be kept under an idempotency key.
    status: u16,
    /// A snapshot is to be kept with the events.
    snapshot_due: bool,
}

impl Decision {
    /// The answer to keep under `key`.
    fn answer(&self, key: Option<&IdempotencyKey>) -> Result<Option<Answer>, ServiceError> {
        let Some(key) = key else { return Ok(None) };
        let response = serde_json::to_value(&self.result)
            .map_err(|e| ServiceError::Database(sqlx::Error::Encode(Box::new(e))))?;
        Ok(Some(Answer {
            key: key.key.clone(),
            request: key.request.clone(),
            status: self.status,
            response,
        }))
    }
}

impl CommandService {
    /// Complaint `id`: its snapshot (when snapshots are on and one of this state version
    /// exists) and the events after it, or its whole stream.
    async fn load(&self, conn: &mut sqlx::PgConnection, id: Uuid) -> Result<Loaded, ServiceError> {
        let snapshot = match self.snapshot_every {
            0 => None,
            _ => snapshots::latest(conn, id).await?.and_then(|stored| {
                let state = snapshot::decode(stored.state_version, &stored.state);
                if state.is_none() {
                    tracing::info!(
                        complaint = %id,
                        state_version = stored.state_version,
                        "snapshot of another state version ignored; folding the whole stream"
                    );
                }
                state.map(|state| (stored.version, state))
            }),
        };
        let (snapshot_version, start) =
            snapshot.unwrap_or_else(|| (0, Complaint::empty(id.to_string())));
        let tail = events::load_stream_after(conn, id, snapshot_version).await?;
        Ok(Loaded {
            state: fold(start, tail)?,
            snapshot_version,
        })
    }
}

/// The caller's rights on `state` ([`access::may_run`]); the suite's own commands pass.
fn authorize(
    context: &CommandContext,
    id: Uuid,
    command: &Command,
    state: &Complaint,
) -> Result<(), ServiceError> {
    let Some(actor) = &context.actor else {
        return Ok(());
    };
    access::may_run(actor, command, state).map_err(|refusal| match refusal {
        Refusal::Hidden => ServiceError::NotFound(id),
        Refusal::Forbidden(reason) => ServiceError::Forbidden(reason),
    })
}

/// `state` after the events of its stream that follow it, by the domain's one fold: an event
/// type this build does not know still counts for the version, so the next append does not
/// collide with it; a stored event that does not decode is an error.
fn fold(state: Complaint, stream: Vec<StreamEvent>) -> Result<Complaint, ServiceError> {
    state.fold(stream.into_iter().map(|stored| {
        let schema_version = u32::try_from(stored.schema_version).unwrap_or(0);
        Ok(Recorded {
            version: stored.version,
            at: stored.recorded_at,
            event: ComplaintEvent::from_parts(&stored.event_type, schema_version, &stored.data)?,
        })
    }))
}

/// A bounded metrics label per kind of command.
fn label(command: &Command) -> &'static str {
    match command {
        Command::Create { .. } => "create",
        Command::Assign { .. } => "assign",
        Command::Process => "process",
        Command::Resolve { .. } => "resolve",
        Command::Close => "close",
        Command::Reopen { .. } => "reopen",
        Command::ChangePriority { .. } => "change_priority",
        Command::Escalate => "escalate",
        Command::RequireCompensation { .. } => "require_compensation",
        Command::RevertAssignment { .. } => "revert_assignment",
    }
}

impl CommandResult {
    fn new(id: Uuid, state: &Complaint, command_id: Uuid, events: &[Envelope]) -> Self {
        Self {
            id,
            version: state.version,
            status: state.status,
            priority: state.priority,
            assignee: state.assignee.clone(),
            command_id,
            events: events
                .iter()
                .map(|e| RecordedEventRef {
                    event_id: e.event_id,
                    event_type: e.event_type.clone(),
                    version: e.metadata.version,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn recorded(version: i64, event_type: &str, data: Value) -> StreamEvent {
        StreamEvent {
            version,
            event_type: event_type.to_owned(),
            schema_version: 1,
            data,
            recorded_at: "2024-05-01T10:00:00Z".parse().unwrap(),
        }
    }

    fn created() -> StreamEvent {
        recorded(
            1,
            "COMPLAINT_CREATED",
            json!({
                "title": "Charged twice", "description": "Two debits", "category": "billing",
                "priority": "LOW", "slaDeadline": "2024-05-08T10:00:00Z",
                "customer": { "id": "c-1", "name": "Ada", "email": "ada@example.com" }
            }),
        )
    }

    #[test]
    fn a_stream_folds_into_the_complaint_it_describes() {
        let id = Uuid::now_v7();
        let state = fold(
            Complaint::empty(id.to_string()),
            vec![
                created(),
                recorded(2, "COMPLAINT_ASSIGNED", json!({ "agentId": "a-1" })),
            ],
        )
        .unwrap();
        assert_eq!(state.id, id.to_string());
        assert_eq!(state.version, 2);
        assert_eq!(state.status, Status::Assigned);
    }

    #[test]
    fn an_unknown_event_type_still_counts_for_the_version() {
        let state = fold(
            Complaint::empty("c-1"),
            vec![created(), recorded(2, "COMPLAINT_ARCHIVED", json!({}))],
        )
        .unwrap();
        assert_eq!(state.version, 2, "the next append is version 3");
        assert_eq!(state.status, Status::Open);
    }

    #[test]
    fn a_stored_event_that_does_not_decode_is_an_error() {
        let broken = recorded(2, "COMPLAINT_ASSIGNED", json!({ "agentId": 7 }));
        assert!(matches!(
            fold(Complaint::empty("c-1"), vec![created(), broken]),
            Err(ServiceError::CorruptEvent(_))
        ));
    }

    #[test]
    fn events_caused_by_an_event_keep_its_correlation_and_name_it_as_cause() {
        let cause = shared::event::Envelope::new(
            shared::event::EventType::NotificationFailed,
            "n-1",
            "Notification",
            json!({}),
            Metadata::new("notification-service", "corr-9".into(), Utc::now()).with_user("agent-4"),
        );
        let context = CommandContext::caused_by(&cause, "complaint-service.compensations");
        let metadata = context.metadata(3, Utc::now());
        assert_eq!(metadata.correlation_id, "corr-9");
        assert_eq!(metadata.causation_id, Some(cause.event_id.to_string()));
        assert_eq!(metadata.user_id.as_deref(), Some("agent-4"));
        assert_eq!(metadata.version, 3);
        assert_eq!(metadata.source, SERVICE);

        let direct = CommandContext::new("corr-1".into());
        let metadata = direct.metadata(1, Utc::now());
        assert_eq!(metadata.causation_id, Some(direct.command_id.to_string()));
        assert_eq!(metadata.user_id, None);
    }
}
