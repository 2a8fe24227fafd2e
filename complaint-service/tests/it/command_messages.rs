//! Commands as messages on `complaints.commands`, as another service would send them: with a
//! reply queue of its own (request/reply by `correlation_id`), or fire-and-forget.

use crate::harness::{spawn_app, TestApp, WAIT};
use futures_util::StreamExt;
use lapin::{
    options::{BasicPublishOptions, ConfirmSelectOptions},
    BasicProperties, Channel, Connection, ConnectionProperties,
};
use serde_json::{json, Value};
use shared::{
    event::{exchanges, EventType},
    test_support::{eventually, private_queue, EventTap},
};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};
use uuid::Uuid;

const QUEUE: &str = "complaint-service.commands";

/// A sender of command messages with its own reply queue.
struct Sender {
    channel: Channel,
    reply_queue: String,
    replies: Arc<Mutex<HashMap<String, Vec<Value>>>>,
    _connection: Connection,
}

impl Sender {
    async fn connect(app: &TestApp) -> Sender {
        let connection = Connection::connect(&app.vhost.amqp_url, ConnectionProperties::default())
            .await
            .expect("connect to RabbitMQ");
        let channel = connection.create_channel().await.expect("a channel");
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .expect("confirms");
        let (reply_queue, mut consumer) = private_queue(&channel, true).await;
        let replies: Arc<Mutex<HashMap<String, Vec<Value>>>> = Arc::default();
        let sink = replies.clone();
        tokio::spawn(async move {
            while let Some(Ok(delivery)) = consumer.next().await {
                let correlation = delivery
                    .properties
                    .correlation_id()
                    .as_ref()
                    .map(|c| c.as_str().to_owned())
                    .unwrap_or_default();
                let body: Value = serde_json::from_slice(&delivery.data).expect("a JSON reply");
                sink.lock()
                    .unwrap()
                    .entry(correlation)
                    .or_default()
                    .push(body);
            }
        });
        Sender {
            channel,
            reply_queue,
            replies,
            _connection: connection,
        }
    }

    /// Publishes `body` (routed by its `type`), asking for a reply under a new correlation id,
    /// which it returns.
    async fn request(&self, body: &Value) -> String {
        let correlation = Uuid::now_v7().to_string();
        let properties = BasicProperties::default()
            .with_content_type("application/json".into())
            .with_correlation_id(correlation.as_str().into())
            .with_reply_to(self.reply_queue.as_str().into());
        self.publish(body, properties).await;
        correlation
    }

    /// Publishes `body` without asking for a reply.
    async fn tell(&self, body: &Value) {
        self.publish(body, BasicProperties::default()).await;
    }

    async fn publish(&self, body: &Value, properties: BasicProperties) {
        self.publish_raw(
            body["type"].as_str().unwrap_or("complaint.unknown"),
            &serde_json::to_vec(body).unwrap(),
            properties,
        )
        .await;
    }

    async fn publish_raw(&self, routing_key: &str, payload: &[u8], properties: BasicProperties) {
        let confirm = self
            .channel
            .basic_publish(
                exchanges::COMMANDS.into(),
                routing_key.into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..BasicPublishOptions::default()
                },
                payload,
                properties.with_delivery_mode(2),
            )
            .await
            .expect("publish")
            .await
            .expect("a confirm");
        assert!(confirm.is_ack(), "the broker took the command");
    }

    /// The reply to the request of `correlation`, once it has come.
    async fn reply(&self, correlation: &str) -> Value {
        eventually("the reply", WAIT, || async {
            self.replies
                .lock()
                .unwrap()
                .get(correlation)
                .and_then(|r| r.first().cloned())
        })
        .await
    }

    fn reply_count(&self) -> usize {
        self.replies.lock().unwrap().values().map(Vec::len).sum()
    }
}

fn command(command_type: &str, complaint: Option<&str>, payload: Value) -> Value {
    let mut body = json!({
        "commandId": Uuid::now_v7(),
        "type": command_type,
        "actor": "agent-007",
        "correlationId": format!("corr-{}", Uuid::now_v7()),
    });
    if let Some(id) = complaint {
        body["complaintId"] = json!(id);
    }
    if !payload.is_null() {
        body["payload"] = payload;
    }
    body
}

fn create_payload() -> Value {
    json!({
        "title": "Charged twice for one order",
        "description": "Two debits for the same order.",
        "category": "billing",
        "priority": "HIGH",
        "customer": { "id": "customer-cmd", "name": "Ada Lovelace", "email": "ada@example.com" }
    })
}

#[tokio::test]
async fn a_command_published_on_the_exchange_changes_the_complaint() {
    let app = spawn_app().await;
    let sender = Sender::connect(&app).await;

    let create = command("complaint.create", None, create_payload());
    let created = sender.reply(&sender.request(&create).await).await;
    assert_eq!(created["status"], "accepted", "{created}");
    assert_eq!(created["commandId"], create["commandId"]);
    assert_eq!(created["version"], 1);
    let id = created["id"]
        .as_str()
        .expect("the new complaint's id")
        .to_owned();

    // Fire and forget: the change shows only through the read side.
    sender
        .tell(&command(
            "complaint.assign",
            Some(&id),
            json!({ "agentId": "agent-001" }),
        ))
        .await;
    let path = format!("/api/complaints/{id}");
    let assigned = eventually("the complaint assigned", WAIT, || async {
        let complaint = app.get(&path).await.body;
        (complaint["version"] == 2).then_some(complaint)
    })
    .await;
    assert_eq!(assigned["status"], "ASSIGNED", "{assigned}");
    assert_eq!(assigned["assignee"], "agent-001", "{assigned}");
    assert_eq!(assigned["title"], "Charged twice for one order");

    let process = command("complaint.process", Some(&id), Value::Null);
    let processed = sender.reply(&sender.request(&process).await).await;
    assert_eq!(
        processed,
        json!({ "status": "accepted", "commandId": process["commandId"], "id": id, "version": 3 })
    );
    assert_eq!(app.complaint_at(&id, 3).await["status"], "IN_PROGRESS");
    app.stop().await;
}

#[tokio::test]
async fn a_command_sent_twice_acts_once_and_gets_the_same_reply() {
    let app = spawn_app().await;
    let tap = EventTap::bind_to(&app.vhost, shared::event::exchanges::COMPLAINTS).await;
    let sender = Sender::connect(&app).await;

    let create = command("complaint.create", None, create_payload());
    let first = sender.reply(&sender.request(&create).await).await;
    let again = sender.reply(&sender.request(&create).await).await;
    assert_eq!(first["status"], "accepted", "{first}");
    assert_eq!(again, first, "the same complaint, not a second one");
    let id = first["id"].as_str().unwrap().to_owned();

    let assign = command(
        "complaint.assign",
        Some(&id),
        json!({ "agentId": "agent-001" }),
    );
    let first = sender.reply(&sender.request(&assign).await).await;
    let again = sender.reply(&sender.request(&assign).await).await;
    assert_eq!(first["version"], 2, "{first}");
    assert_eq!(again, first);

    // The next command finds version 2: the repeat recorded nothing.
    let process = command("complaint.process", Some(&id), Value::Null);
    let processed = sender.reply(&sender.request(&process).await).await;
    assert_eq!(processed["version"], 3, "{processed}");
    let complaint = app.complaint_at(&id, 3).await;
    assert_eq!(complaint["status"], "IN_PROGRESS");
    assert_eq!(
        app.ids("&customer=customer-cmd").await,
        vec![id.clone()],
        "one complaint"
    );

    eventually("the three events published", WAIT, || async {
        (tap.seen().len() >= 3).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let types: Vec<String> = tap
        .seen()
        .iter()
        .map(|d| d.envelope.event_type.clone())
        .collect();
    assert_eq!(
        types,
        [
            "COMPLAINT_CREATED",
            "COMPLAINT_ASSIGNED",
            "COMPLAINT_PROCESSED"
        ]
    );
    let assigned = &tap.seen()[1].envelope;
    assert_eq!(
        assigned.metadata.causation_id.as_deref(),
        assign["commandId"].as_str(),
        "the command caused the event"
    );
    assert_eq!(assigned.metadata.correlation_id, assign["correlationId"]);
    assert_eq!(assigned.metadata.user_id.as_deref(), Some("agent-007"));
    app.stop().await;
}

#[tokio::test]
async fn a_command_the_domain_refuses_is_answered_and_announced_once() {
    let app = spawn_app().await;
    let errors = EventTap::bind_to(&app.vhost, exchanges::ERRORS).await;
    let sender = Sender::connect(&app).await;
    let id = app.created(1).await;

    let close = command("complaint.close", Some(&id), Value::Null);
    let refused = sender.reply(&sender.request(&close).await).await;
    assert_eq!(refused["status"], "rejected", "{refused}");
    assert_eq!(refused["code"], "INVALID_TRANSITION");
    assert_eq!(refused["commandId"], close["commandId"]);
    assert!(
        refused["reason"].as_str().unwrap().contains("OPEN"),
        "{refused}"
    );
    let again = sender.reply(&sender.request(&close).await).await;
    assert_eq!(again, refused, "the same answer to the same command");

    // The same codes as the REST routes for a bad value and a stale version.
    let mut bad = create_payload();
    bad["title"] = json!("ab");
    let invalid = sender
        .reply(
            &sender
                .request(&command("complaint.create", None, bad))
                .await,
        )
        .await;
    assert_eq!(invalid["status"], "rejected");
    assert_eq!(invalid["code"], "VALIDATION_FAILED", "{invalid}");
    let mut stale = command(
        "complaint.assign",
        Some(&id),
        json!({ "agentId": "agent-001" }),
    );
    stale["expectedVersion"] = json!(7);
    let conflict = sender.reply(&sender.request(&stale).await).await;
    assert_eq!(conflict["code"], "VERSION_CONFLICT", "{conflict}");

    let rejected = |tap: &EventTap| {
        tap.seen()
            .into_iter()
            .map(|d| d.envelope)
            .filter(|e| e.event_type == EventType::CommandRejected.as_str())
            .collect::<Vec<_>>()
    };
    eventually("three COMMAND_REJECTED", WAIT, || async {
        (rejected(&errors).len() >= 3).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let events = rejected(&errors);
    assert_eq!(events.len(), 3, "one per refused command: {events:#?}");
    let announced = events
        .iter()
        .find(|e| e.aggregate_id == close["commandId"].as_str().unwrap())
        .expect("the refused close announced");
    let data = &announced.event_data;
    assert_eq!(data["code"], "INVALID_TRANSITION");
    assert_eq!(data["commandType"], "complaint.close");
    assert_eq!(data["complaintId"], id.as_str());
    assert_eq!(data["severity"], "LOW");
    assert_eq!(data["kind"], "VALIDATION");
    assert_eq!(data["rejection"], "business_rule");
    assert_eq!(data["failingMessage"]["aggregateId"], id.as_str());
    assert_eq!(data["retryable"], false);
    assert_eq!(data["service"], "complaint-service");
    assert_eq!(announced.metadata.correlation_id, close["correlationId"]);

    // Refusals changed nothing.
    assert_eq!(app.complaint_at(&id, 1).await["status"], "OPEN");
    app.stop().await;
}

#[tokio::test]
async fn a_malformed_command_lands_in_the_dead_letter_queue_with_the_reason() {
    let app = spawn_app().await;
    let sender = Sender::connect(&app).await;
    let unknown = json!({ "commandId": Uuid::now_v7(), "type": "complaint.explode" });
    sender.request(&unknown).await;
    sender
        .publish_raw(
            "complaint.close",
            b"close it, please",
            BasicProperties::default().with_reply_to(sender.reply_queue.as_str().into()),
        )
        .await;
    let no_complaint = command("complaint.assign", None, json!({ "agentId": "agent-001" }));
    sender.request(&no_complaint).await;

    let path = format!("/admin/dead-letters/{QUEUE}");
    let dead = eventually("three dead letters", WAIT, || async {
        let reply = app.get(&path).await;
        let letters = reply.body.as_array().cloned().unwrap_or_default();
        (letters.len() >= 3).then_some(letters)
    })
    .await;
    let reasons: Vec<&str> = dead
        .iter()
        .map(|d| d["reason"].as_str().unwrap_or(""))
        .collect();
    assert!(
        dead.iter().all(|d| d["failureKind"] == "undecodable"),
        "{dead:#?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("unknown variant `complaint.explode`")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("malformed message")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("needs a complaintId")),
        "{reasons:?}"
    );
    assert_eq!(sender.reply_count(), 0, "a malformed command gets no reply");
    app.stop().await;
}
