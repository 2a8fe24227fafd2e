//! Snapshots: commands load a complaint from its latest snapshot plus the events after it,
//! keep a new one every N events, and ignore (then replace) one of another state version.

use crate::harness::{new_complaint, spawn_app_with, TestApp};
use serde_json::{json, Value};
use shared::complaint::snapshot::STATE_VERSION;
use uuid::Uuid;

/// The stored snapshot of `id`: (version, state version, state).
async fn snapshot_of(app: &TestApp, id: &str) -> Option<(i64, i32, Value)> {
    sqlx::query_as(
        "SELECT version, state_version, state FROM complaint_snapshots WHERE aggregate_id = $1",
    )
    .bind(Uuid::parse_str(id).unwrap())
    .fetch_optional(&app.pool().await)
    .await
    .unwrap()
}

async fn set_priority(app: &TestApp, id: &str, priority: &str) -> Value {
    let reply = app
        .command(id, "priority", json!({ "priority": priority }))
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body
}

#[tokio::test]
async fn a_snapshot_is_kept_every_n_events_and_commands_start_from_it() {
    let app = spawn_app_with(|config| config.snapshots.every = 3).await;
    let id = app.created(1).await;
    set_priority(&app, &id, "LOW").await;
    assert_eq!(snapshot_of(&app, &id).await, None, "2 events: none due yet");
    set_priority(&app, &id, "MEDIUM").await;

    let (version, state_version, state) = snapshot_of(&app, &id).await.expect("a snapshot");
    assert_eq!((version, state_version), (3, STATE_VERSION));
    assert_eq!(state["priority"], "MEDIUM");
    assert_eq!(state["customerEmail"], "ada@example.com");

    // Proof that the next command starts from the snapshot rather than the first event:
    // what the snapshot says (here, altered behind the service's back) is what it sees.
    sqlx::query(
        "UPDATE complaint_snapshots SET state = jsonb_set(state, '{priority}', '\"CRITICAL\"')",
    )
    .execute(&app.pool().await)
    .await
    .unwrap();
    let assigned = app
        .command(&id, "assign", json!({ "agentId": "agent-1" }))
        .await;
    assert_eq!(assigned.body["priority"], "CRITICAL");
    assert_eq!(assigned.version(), 4);
    app.stop().await;
}

#[tokio::test]
async fn a_snapshot_of_an_older_state_version_is_ignored_and_rebuilt() {
    let app = spawn_app_with(|config| config.snapshots.every = 3).await;
    let id = app.created(2).await;
    set_priority(&app, &id, "LOW").await;
    set_priority(&app, &id, "MEDIUM").await;
    // A snapshot as an older build would have left it: another state version, and a state
    // this build must not trust.
    sqlx::query(
        "UPDATE complaint_snapshots
         SET state_version = $1, state = jsonb_set(state, '{priority}', '\"CRITICAL\"')",
    )
    .bind(STATE_VERSION - 1)
    .execute(&app.pool().await)
    .await
    .unwrap();

    let assigned = app
        .command(&id, "assign", json!({ "agentId": "agent-1" }))
        .await;
    assert_eq!(assigned.status, 200, "{:?}", assigned.body);
    assert_eq!(
        assigned.body["priority"], "MEDIUM",
        "folded from the events"
    );
    assert_eq!(assigned.body["status"], "ASSIGNED");

    let (version, state_version, state) = snapshot_of(&app, &id).await.expect("a snapshot");
    assert_eq!((version, state_version), (4, STATE_VERSION), "rebuilt");
    assert_eq!(state["priority"], "MEDIUM");
    assert_eq!(state["assignee"], "agent-1");
    app.stop().await;
}

#[tokio::test]
async fn with_snapshots_off_a_complaint_reads_the_same_and_none_is_kept() {
    let with = spawn_app_with(|config| config.snapshots.every = 2).await;
    let without = spawn_app_with(|config| config.snapshots.every = 0).await;
    let mut views = Vec::new();
    for app in [&with, &without] {
        let id = app.create(new_complaint(3)).await.id();
        for priority in ["LOW", "CRITICAL", "MEDIUM", "HIGH", "LOW"] {
            set_priority(app, &id, priority).await;
        }
        app.command(&id, "assign", json!({ "agentId": "agent-1" }))
            .await;
        let last = app.command(&id, "process", Value::Null).await;
        assert_eq!(last.status, 200, "{:?}", last.body);
        let view = app.complaint_at(&id, last.version()).await;
        views.push((snapshot_of(app, &id).await.map(|s| s.0), last.body, view));
    }
    let (with_snapshot, with_result, with_view) = &views[0];
    let (without_snapshot, without_result, without_view) = &views[1];
    assert_eq!(*with_snapshot, Some(8));
    assert_eq!(*without_snapshot, None);
    for field in ["version", "status", "priority", "assignee"] {
        assert_eq!(with_result[field], without_result[field], "{field}");
        assert_eq!(with_view[field], without_view[field], "{field}");
    }
    with.stop().await;
    without.stop().await;
}
