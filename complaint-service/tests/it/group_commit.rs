//! Group commit of creates (`store::group_commit`): creates waiting together share one
//! statement, which writes all of them or none; a conflict fails only its own create.

use crate::harness::{spawn_app_with, TestApp};
use chrono::Utc;
use complaint_service::store::{
    events::{self, NewStream, Started},
    group_commit::GroupCommit,
    idempotency::Answer,
};
use futures_util::future::join_all;
use serde_json::json;
use shared::event::Envelope;
use sqlx::PgPool;
use uuid::Uuid;

/// An app whose projector stays out of the way (these events are not complaints) and whose
/// relay keeps the rows it published, so a test counts what a statement wrote.
async fn app() -> (TestApp, PgPool) {
    let app = spawn_app_with(|config| {
        config.projection.enabled = false;
        config.relay.retention = std::time::Duration::from_secs(3600);
    })
    .await;
    let pool = app.pool().await;
    (app, pool)
}

fn first_event(id: Uuid) -> Envelope {
    serde_json::from_value(json!({
        "eventId": Uuid::now_v7(),
        "eventType": "GROUP_COMMIT_PROBE",
        "aggregateId": id.to_string(),
        "aggregateType": "Complaint",
        "eventData": {},
        "metadata": {
            "timestamp": Utc::now(), "version": 1, "correlationId": "group-commit",
            "source": "group-commit-test",
        },
    }))
    .expect("an envelope")
}

fn new_stream(id: Uuid) -> NewStream {
    NewStream {
        id,
        events: vec![first_event(id)],
        answer: None,
    }
}

fn keyed(id: Uuid, key: &str) -> NewStream {
    NewStream {
        answer: Some(Answer {
            key: key.to_owned(),
            request: json!({ "for": id }),
            status: 201,
            response: json!({ "id": id }),
        }),
        ..new_stream(id)
    }
}

/// (events, outbox rows, transactions that wrote the events) of these complaints.
async fn written(pool: &PgPool, ids: &[Uuid]) -> (i64, i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM complaint_events WHERE aggregate_id = ANY($1)),
                (SELECT count(*) FROM outbox
                 WHERE envelope->>'aggregateId' = ANY($1::uuid[]::text[])),
                (SELECT count(DISTINCT transaction_id) FROM complaint_events
                 WHERE aggregate_id = ANY($1))",
    )
    .bind(ids)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_statement_of_creates_writes_all_of_them_or_none() {
    let (app, pool) = app().await;
    let (existing, a, b, c) = (
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );
    assert_eq!(
        events::start(&pool, &[new_stream(existing)]).await.unwrap(),
        Started::Done
    );

    let stream_taken = [new_stream(a), new_stream(existing)];
    assert_eq!(
        events::start(&pool, &stream_taken).await.unwrap(),
        Started::VersionTaken
    );
    let key_taken = [keyed(b, "one-key"), keyed(c, "one-key")];
    assert_eq!(
        events::start(&pool, &key_taken).await.unwrap(),
        Started::KeyTaken
    );
    assert_eq!(
        written(&pool, &[a, b, c]).await,
        (0, 0, 0),
        "nothing of a refused statement"
    );
    let keys: i64 = sqlx::query_scalar("SELECT count(*) FROM idempotency_keys")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(keys, 0);

    assert_eq!(
        events::start(&pool, &[keyed(a, "a"), keyed(b, "b"), new_stream(c)])
            .await
            .unwrap(),
        Started::Done
    );
    assert_eq!(
        written(&pool, &[a, b, c]).await,
        (3, 3, 1),
        "three streams, their outbox rows, one transaction"
    );
    app.stop().await;
}

#[tokio::test]
async fn creates_waiting_together_share_a_commit() {
    let (app, pool) = app().await;
    let creates = GroupCommit::spawn(pool.clone());
    let ids: Vec<Uuid> = (0..30).map(|_| Uuid::now_v7()).collect();
    let outcomes = join_all(ids.iter().map(|&id| creates.start(new_stream(id)))).await;
    for outcome in outcomes {
        assert_eq!(outcome.unwrap(), Started::Done);
    }
    let (events, outbox, transactions) = written(&pool, &ids).await;
    assert_eq!((events, outbox), (30, 30));
    assert!(
        transactions < 30,
        "creates sent together are committed together ({transactions} commits for 30)"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_conflict_in_a_group_fails_only_its_own_create() {
    let (app, pool) = app().await;
    let creates = GroupCommit::spawn(pool.clone());
    let (existing, retried) = (Uuid::now_v7(), Uuid::now_v7());
    assert_eq!(
        creates.start(keyed(existing, "first")).await.unwrap(),
        Started::Done
    );

    let fresh: Vec<Uuid> = (0..20).map(|_| Uuid::now_v7()).collect();
    let mut group: Vec<NewStream> = fresh.iter().map(|&id| new_stream(id)).collect();
    group.insert(5, new_stream(existing));
    group.insert(12, keyed(retried, "first"));
    let outcomes = join_all(group.into_iter().map(|stream| creates.start(stream))).await;
    let outcomes: Vec<Started> = outcomes.into_iter().map(Result::unwrap).collect();
    assert_eq!(outcomes[5], Started::VersionTaken);
    assert_eq!(outcomes[12], Started::KeyTaken);
    let done = outcomes.iter().filter(|o| **o == Started::Done).count();
    assert_eq!(done, 20, "every other create is written");
    assert_eq!(written(&pool, &fresh).await.0, 20);
    assert_eq!(written(&pool, &[retried]).await.0, 0);
    app.stop().await;
}
