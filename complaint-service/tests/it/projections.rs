//! The read model is derived from the events only: a rebuild reaches the same state, and the
//! projector says how far behind it is.

use crate::harness::{spawn_app, spawn_app_with, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use shared::test_support::{metrics_grown, metrics_with, Scrape};

/// Complaint `n` taken `n % 6` steps into a varied history.
async fn history(app: &TestApp, n: usize) {
    let id = app.created(n).await;
    let steps: [(&str, Value); 6] = [
        ("assign", json!({ "agentId": format!("agent-{}", n % 3) })),
        (
            "priority",
            json!({ "priority": "LOW", "reason": "Can wait" }),
        ),
        ("process", Value::Null),
        ("resolve", json!({ "resolution": "Refunded" })),
        ("close", Value::Null),
        ("reopen", json!({ "reason": "It happened again" })),
    ];
    for (action, body) in steps.into_iter().take(n % 7) {
        app.ok(&id, action, body).await;
    }
}

/// Everything a reader can see: the list (walked in small pages), each complaint with its
/// timeline, and the statistics.
async fn read_model(app: &TestApp) -> Value {
    let list = app.list_all("", 4).await;
    let mut complaints = Vec::new();
    for item in &list {
        let id = item["id"].as_str().unwrap();
        complaints.push(app.get(&format!("/api/complaints/{id}")).await.body);
    }
    let mut statistics = app.get("/api/complaints/statistics").await.body;
    statistics.as_object_mut().unwrap().remove("overdue"); // depends on the clock
    json!({ "list": list, "complaints": complaints, "statistics": statistics })
}

#[tokio::test]
async fn a_rebuild_from_the_events_reaches_the_same_read_model() {
    let app = spawn_app().await;
    for n in 0..10 {
        history(&app, n).await;
    }
    app.settled().await;
    let before = read_model(&app).await;
    assert_eq!(before["list"].as_array().unwrap().len(), 10);

    // Spoil the read model: the rebuild must not start from it.
    let pool = app.pool().await;
    sqlx::query("UPDATE complaint_view SET status = 'CLOSED', title = 'spoiled'")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM complaint_timeline WHERE version = 1")
        .execute(&pool)
        .await
        .unwrap();
    assert_ne!(read_model(&app).await, before);

    let rebuilt = app
        .request(Method::POST, "/api/admin/projections/rebuild", &[], None)
        .await;
    assert_eq!(rebuilt.status, StatusCode::OK);
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM complaint_events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rebuilt.body["events"], events);
    assert_eq!(rebuilt.body["complaints"], 10);
    assert_eq!(
        read_model(&app).await,
        before,
        "identical after the rebuild"
    );

    // The same through the binary's `rebuild-projections` subcommand.
    complaint_service::app::rebuild_projections(app.config.clone())
        .await
        .unwrap();
    assert_eq!(
        read_model(&app).await,
        before,
        "identical after the CLI rebuild"
    );

    // And the projector carries on from where the rebuild stopped.
    let id = app.created(99).await;
    let view = app.complaint_at(&id, 1).await;
    assert_eq!(view["timeline"].as_array().unwrap().len(), 1);
    app.stop().await;
}

/// The read model's indexes and constraints, as the catalog has them.
async fn read_model_indexes(pool: &sqlx::PgPool) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT indexname::text, regexp_replace(indexdef, ' ON \\S+ ', ' ON ')
         FROM pg_indexes
         WHERE schemaname = current_schema()
           AND tablename IN ('complaint_view', 'complaint_timeline')
         ORDER BY indexname",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_rebuild_in_small_portions_writes_views_out_and_reads_them_back() {
    use complaint_service::projection::{
        projector::ProjectionSignals,
        rebuild::{rebuild_in, Portions},
    };
    let app = spawn_app().await;
    for n in 0..12 {
        history(&app, n).await;
    }
    app.settled().await;
    let before = read_model(&app).await;
    let pool = app.pool().await;
    let indexes = read_model_indexes(&pool).await;
    assert!(indexes.len() >= 9, "{indexes:?}");
    // What a rebuild that died mid-way may leave behind: it is dropped, not reused.
    let schema: String = sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(&pool)
        .await
        .unwrap();
    sqlx::raw_sql(&format!(
        "CREATE SCHEMA \"{schema}_rebuild\";
         CREATE TABLE \"{schema}_rebuild\".complaint_view (junk int)"
    ))
    .execute(&pool)
    .await
    .unwrap();

    // Two events per read and at most two views in memory: views are written out while the
    // replay goes on, and read back when their complaint's later events come.
    let portions = Portions {
        batch: 2,
        views_in_memory: 2,
    };
    let rebuilt = rebuild_in(&pool, &ProjectionSignals::default(), portions)
        .await
        .unwrap();
    assert_eq!(rebuilt.complaints, 12);
    assert_eq!(
        read_model(&app).await,
        before,
        "identical after the rebuild"
    );
    assert_eq!(
        read_model_indexes(&pool).await,
        indexes,
        "the new tables have the indexes of the old ones"
    );
    let leftovers: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_namespace WHERE nspname = current_schema() || '_rebuild'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(leftovers, 0, "the rebuild's own schema is gone");

    // The projector carries on in the swapped-in tables.
    let id = app.created(99).await;
    let view = app.complaint_at(&id, 1).await;
    assert_eq!(view["timeline"].as_array().unwrap().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn the_projector_reports_its_lag_and_its_work_in_metrics() {
    let app = spawn_app().await;
    let before = Scrape::take(&app.address).await;
    let id = app.created(1).await;
    app.ok(&id, "assign", json!({ "agentId": "agent-1" })).await;
    app.settled().await;
    let status = app.get("/api/admin/projections").await.body;
    assert_eq!(status["pendingEvents"], 0);
    assert_eq!(status["secondsBehind"], 0.0);
    assert_eq!(status["checkpointPosition"], status["lastPosition"]);

    app.get("/api/complaints").await;
    metrics_grown(
        &app.address,
        &before,
        &[
            (
                "command_executions_total{command=\"create\",outcome=\"success\"}",
                1.0,
            ),
            (
                "command_executions_total{command=\"assign\",outcome=\"success\"}",
                1.0,
            ),
            ("query_executions_total{query=\"list\"}", 1.0),
        ],
    )
    .await;
    metrics_with(
        &app.address,
        &[
            "projection_updates_total",
            "projection_lag_events",
            "projection_lag_seconds",
        ],
    )
    .await;
    app.stop().await;
}

/// The event of a complaint created by hand, as a slow writer would append it.
fn created_event(id: uuid::Uuid) -> shared::event::Envelope {
    use shared::complaint::{
        Category, ComplaintCreated, ComplaintEvent, ComplaintTitle, Customer, CustomerId,
        CustomerName, Description, Email, EventCodec, Priority,
    };
    let now = chrono::Utc::now();
    ComplaintEvent::Created(ComplaintCreated {
        title: ComplaintTitle::parse("Slow writer").unwrap(),
        description: Description::parse("Appended by a long transaction").unwrap(),
        category: Category::parse("billing").unwrap(),
        priority: Priority::Low,
        customer: Customer {
            id: CustomerId::parse("c-slow").unwrap(),
            name: CustomerName::parse("Slow").unwrap(),
            contact: shared::complaint::Contact {
                email: Email::parse("slow@example.com").unwrap(),
            },
        },
        sla_deadline: now,
    })
    .to_envelope(
        &id.to_string(),
        shared::event::Metadata::new("complaint-service", "corr-slow".into(), now),
    )
}

#[tokio::test]
async fn an_event_committed_after_later_ones_is_still_projected() {
    let app = spawn_app().await;
    let pool = app.pool().await;
    let slow_id = uuid::Uuid::now_v7();

    // A writer takes its position first but commits last.
    let mut slow = complaint_service::store::events::begin(&pool)
        .await
        .unwrap();
    complaint_service::store::events::append(&mut slow, slow_id, &[created_event(slow_id)])
        .await
        .unwrap();
    let quick = app.created(1).await;
    // Give the projector every chance to (wrongly) move past the slow writer's position.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    slow.commit().await.unwrap();

    let quick_view = app.complaint_at(&quick, 1).await;
    assert_eq!(quick_view["status"], "OPEN");
    let slow_view = app.complaint_at(&slow_id.to_string(), 1).await;
    assert_eq!(slow_view["title"], "Slow writer", "not skipped");
    app.settled().await;
    app.stop().await;
}

#[tokio::test]
async fn the_horizon_stops_at_the_oldest_appender_still_running() {
    use complaint_service::store::{events, projection};
    let app = spawn_app().await;
    let pool = app.pool().await;
    let mut reader = pool.acquire().await.unwrap();
    let before = projection::horizon(&mut reader)
        .await
        .unwrap()
        .transaction_id;

    let slow_id = uuid::Uuid::now_v7();
    let mut slow = events::begin(&pool).await.unwrap();
    events::append(&mut slow, slow_id, &[created_event(slow_id)])
        .await
        .unwrap();
    let slow_xid: i64 = sqlx::query_scalar("SELECT pg_current_xact_id()::text::bigint")
        .fetch_one(&mut *slow)
        .await
        .unwrap();
    // Nothing after it may have completed yet: its id is then at or above the snapshot's
    // xmax, and the horizon is that xmax.
    let horizon = projection::horizon(&mut reader)
        .await
        .unwrap()
        .transaction_id;
    assert!(
        before <= horizon && horizon <= slow_xid,
        "{before} <= {horizon} <= {slow_xid}"
    );
    let quick = app.created(1).await;
    assert_eq!(
        projection::horizon(&mut reader).await.unwrap(),
        projection::Horizon {
            transaction_id: slow_xid,
            held_by_appender: true
        },
        "a later transaction completed: the slow one is the horizon, and it holds events back"
    );
    slow.commit().await.unwrap();
    let after = projection::horizon(&mut reader).await.unwrap();
    assert!(after.transaction_id > slow_xid);
    assert!(before <= slow_xid);
    app.complaint_at(&quick, 1).await;
    app.complaint_at(&slow_id.to_string(), 1).await;
    app.stop().await;
}

#[tokio::test]
async fn one_projector_holds_the_claim_and_the_next_reads_the_checkpoint_it_committed() {
    use complaint_service::store::projection::{self, Checkpoint};
    let app = spawn_app_with(|config| config.projection.enabled = false).await;
    let pool = app.pool().await;
    let mut holder = pool.begin().await.unwrap();
    let held = projection::claim(&mut holder, false)
        .await
        .unwrap()
        .expect("nobody holds it yet");
    let mut projector = pool.begin().await.unwrap();
    assert_eq!(
        projection::claim(&mut projector, false).await.unwrap(),
        None,
        "a projector finds it held and skips its round"
    );
    drop(projector);

    // A rebuild waits for it instead: its statement starts before the holder commits.
    let waiting = tokio::spawn({
        let pool = pool.clone();
        async move {
            let mut rebuild = pool.begin().await.unwrap();
            projection::claim(&mut rebuild, true).await.unwrap()
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "the rebuild waits for the holder");
    let moved = Checkpoint {
        transaction_id: held.horizon.transaction_id,
        position: held.checkpoint.position + 42,
    };
    projection::save_checkpoint(&mut holder, moved)
        .await
        .unwrap();
    holder.commit().await.unwrap();
    let claimed = waiting.await.unwrap().expect("the checkpoint row exists");
    assert_eq!(
        claimed.checkpoint, moved,
        "the checkpoint is read as committed after the statement began, not as it was"
    );
    app.stop().await;
}

#[tokio::test]
async fn every_event_is_projected_under_concurrent_writes() {
    let app = spawn_app_with(|config| config.database.max_connections = 20).await;
    let workers = (0..20).map(|worker| {
        let app = &app;
        async move {
            for n in 0..20 {
                app.created(worker * 100 + n).await;
            }
        }
    });
    futures_util::future::join_all(workers).await;
    app.settled().await;

    let pool = app.pool().await;
    let (events, views, timeline): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM complaint_events), (SELECT count(*) FROM complaint_view),
                (SELECT count(*) FROM complaint_timeline)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(events, 400);
    assert_eq!(views, 400, "no event passed over");
    assert_eq!(timeline, 400);
    app.stop().await;
}
