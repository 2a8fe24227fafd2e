//! complaint-service: commands, the read model and the sagas.

use super::Reply;
use crate::suite::{Suite, WAIT};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};
use shared::{
    complaint::Complaint,
    test_support::{eventually, unique},
};

/// The complainant of every complaint the tests file.
pub const COMPLAINANT: &str = "ada.lovelace@example.com";

/// A create body: `title`, at `priority`, from [`COMPLAINANT`].
pub fn new_complaint(title: &str, priority: &str) -> Value {
    json!({
        "title": title,
        "description": "My card was debited twice for the same order.",
        "category": "billing",
        "priority": priority,
        "customer": { "id": unique("customer-"), "name": "Ada Lovelace", "email": COMPLAINANT }
    })
}

/// A command complaint-service accepted.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub complaint_id: String,
    /// The complaint's version after the command.
    pub version: i64,
    /// The `X-Correlation-ID` the command was sent with: every event it leads to carries it.
    pub correlation_id: String,
}

/// A saga as `GET /api/complaints/{id}/sagas` shows it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Saga {
    pub saga_id: String,
    /// ACKNOWLEDGEMENT, ASSIGNMENT or ESCALATION.
    pub kind: String,
    pub complaint_id: String,
    /// RUNNING, COMPLETED, FAILED, COMPENSATING or COMPENSATED.
    pub status: String,
    #[serde(default)]
    pub steps: Vec<SagaStep>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SagaStep {
    #[allow(dead_code)] // shown when an assertion prints a saga
    pub name: String,
    pub status: String,
}

impl Suite {
    /// Files a complaint; returns what was accepted (version 1).
    pub async fn create_complaint(&self, body: Value) -> Accepted {
        let correlation_id = unique("e2e-create-");
        let reply = self
            .call(
                &self.complaints,
                Method::POST,
                "/api/complaints",
                &[("x-correlation-id", &correlation_id)],
                Some(body),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "create: {}", reply.body);
        accepted(&reply, correlation_id)
    }

    pub async fn assign(&self, id: &str, agent_id: &str) -> Accepted {
        self.command(id, "assign", json!({ "agentId": agent_id }))
            .await
    }

    pub async fn process(&self, id: &str) -> Accepted {
        self.command(id, "process", json!({})).await
    }

    pub async fn resolve(&self, id: &str, resolution: &str) -> Accepted {
        self.command(id, "resolve", json!({ "resolution": resolution }))
            .await
    }

    pub async fn close(&self, id: &str) -> Accepted {
        self.command(id, "close", json!({})).await
    }

    /// `PUT /api/complaints/{id}/{action}`, which must be accepted.
    pub async fn command(&self, id: &str, action: &str, body: Value) -> Accepted {
        let correlation_id = unique(&format!("e2e-{action}-"));
        let reply = self
            .call(
                &self.complaints,
                Method::PUT,
                &format!("/api/complaints/{id}/{action}"),
                &[("x-correlation-id", &correlation_id)],
                Some(body),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{action}: {}", reply.body);
        accepted(&reply, correlation_id)
    }

    /// The complaint as the read model has it now (`None` until it has it).
    pub async fn complaint(&self, id: &str) -> Option<Complaint> {
        let reply = self
            .get(&self.complaints, &format!("/api/complaints/{id}"))
            .await;
        (reply.status != StatusCode::NOT_FOUND).then(|| reply.expect_json("the complaint"))
    }

    /// The complaint once the read model has reached `version` (also when a saga, not a
    /// command of the test, made that version).
    pub async fn complaint_at(&self, id: &str, version: i64) -> Complaint {
        self.complaint_when(&format!("complaint {id} at version {version}"), id, |c| {
            c.version >= version
        })
        .await
    }

    /// Waits until the read model shows a complaint `predicate` accepts.
    pub async fn complaint_when(
        &self,
        what: &str,
        id: &str,
        predicate: impl Fn(&Complaint) -> bool,
    ) -> Complaint {
        let predicate = &predicate;
        eventually(what, WAIT, || async move {
            self.complaint(id).await.filter(predicate)
        })
        .await
    }

    /// The complaint exactly as `GET /api/complaints/{id}` shows it (with its timeline).
    pub async fn complaint_json(&self, id: &str) -> Value {
        let reply = self
            .get(&self.complaints, &format!("/api/complaints/{id}"))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "complaint {id}: {}",
            reply.body
        );
        reply.body
    }

    /// Waits until the read model has applied every event recorded so far.
    pub async fn read_model_settled(&self) {
        eventually("the read model to catch up", WAIT, || async {
            let status = self.get(&self.complaints, "/api/admin/projections").await;
            (status.body["pendingEvents"] == 0).then_some(())
        })
        .await;
    }

    /// `POST /api/admin/projections/rebuild`: the read model replayed from scratch.
    pub async fn rebuild_read_model(&self) -> Value {
        let reply = self
            .call(
                &self.complaints,
                Method::POST,
                "/api/admin/projections/rebuild",
                &[],
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "rebuild: {}", reply.body);
        reply.body
    }

    /// The sagas of a complaint.
    pub async fn sagas(&self, id: &str) -> Vec<Saga> {
        self.get(&self.complaints, &format!("/api/complaints/{id}/sagas"))
            .await
            .expect_json("the sagas of a complaint")
    }

    pub async fn saga(&self, saga_id: &str) -> Saga {
        self.get(&self.complaints, &format!("/api/sagas/{saga_id}"))
            .await
            .expect_json("a saga")
    }

    /// Waits until the complaint's saga of `kind` has `status`; returns it.
    pub async fn saga_reaches(&self, id: &str, kind: &str, status: &str) -> Saga {
        let mut last = Vec::new();
        let found = tokio::time::timeout(WAIT, async {
            loop {
                last = self.sagas(id).await;
                if let Some(saga) = last.iter().find(|s| s.kind == kind && s.status == status) {
                    return saga.clone();
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        })
        .await;
        found.unwrap_or_else(|_| {
            panic!("timed out waiting for the {kind} saga of {id} to be {status}; sagas: {last:#?}")
        })
    }
}

fn accepted(reply: &Reply, correlation_id: String) -> Accepted {
    Accepted {
        complaint_id: reply.body["id"].as_str().expect("an id").to_owned(),
        version: reply.body["version"].as_i64().expect("a version"),
        correlation_id,
    }
}
