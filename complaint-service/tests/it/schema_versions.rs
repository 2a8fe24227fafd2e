//! A complaint whose history was written at schema version 1 (before COMPLAINT_CREATED had a
//! structured contact) is read by this code, on the command side and the read side, as the
//! same complaint as one written at version 2; its stored events stay as they were.

use crate::harness::{new_complaint, spawn_app, TestApp};
use chrono::{SubsecRound, TimeDelta, Utc};
use complaint_service::store::events;
use serde_json::{json, Value};
use shared::event::{Envelope, EventType, Metadata};
use uuid::Uuid;

/// Stores COMPLAINT_CREATED for a new complaint as the code before schema version 2 wrote it:
/// the e-mail directly in `customer`, and `schemaVersion` 1.
async fn created_at_version_1(app: &TestApp, body: &Value) -> Uuid {
    let id = Uuid::now_v7();
    let now = Utc::now().trunc_subsecs(6);
    let mut data = body.clone();
    data["slaDeadline"] = json!(now + TimeDelta::hours(24));
    let envelope = Envelope::new(
        EventType::ComplaintCreated,
        id.to_string(),
        "Complaint",
        data,
        Metadata::new("complaint-service", "corr-v1".into(), now),
    );
    assert_eq!(envelope.metadata.schema_version, 1);
    let pool = app.pool().await;
    let mut tx = events::begin(&pool).await.unwrap();
    events::append(&mut tx, id, &[envelope]).await.unwrap();
    tx.commit().await.unwrap();
    id
}

#[tokio::test]
async fn a_history_written_at_schema_version_1_reads_as_the_same_complaint() {
    let app = spawn_app().await;
    let body = new_complaint(1);
    let old = created_at_version_1(&app, &body).await;
    let new = app.create(body.clone()).await.id();

    let mut views = Vec::new();
    for id in [old.to_string(), new] {
        let assigned = app
            .command(&id, "assign", json!({ "agentId": "agent-1" }))
            .await;
        assert_eq!(assigned.status, 200, "{:?}", assigned.body);
        assert_eq!(assigned.version(), 2);
        views.push(app.complaint_at(&id, 2).await);
    }
    let (old_view, new_view) = (&views[0], &views[1]);
    for field in [
        "status",
        "priority",
        "title",
        "description",
        "category",
        "customerId",
        "customerName",
        "customerEmail",
        "assignee",
        "version",
    ] {
        assert_eq!(old_view[field], new_view[field], "{field}");
    }
    assert_eq!(old_view["customerEmail"], "ada@example.com");

    // The stored event is the one written then: not rewritten to the new shape.
    let stored: (Value, Value) = sqlx::query_as(
        "SELECT data, metadata FROM complaint_events WHERE aggregate_id = $1 AND version = 1",
    )
    .bind(old)
    .fetch_one(&app.pool().await)
    .await
    .unwrap();
    assert_eq!(stored.0["customer"]["email"], "ada@example.com");
    assert_eq!(stored.1["schemaVersion"], 1);
    app.stop().await;
}
