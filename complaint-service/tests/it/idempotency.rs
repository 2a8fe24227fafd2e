//! `Idempotency-Key` on create: a retry gets the first answer and creates nothing new.

use crate::harness::{new_complaint, spawn_app};
use futures_util::future::join_all;
use reqwest::StatusCode;

#[tokio::test]
async fn a_retried_create_gets_the_original_answer_and_creates_nothing() {
    let app = spawn_app().await;
    let key = [("idempotency-key", "order-1-attempt")];

    let first = app.create_with(new_complaint(1), &key).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(first.header("idempotent-replayed"), None);
    let retry = app.create_with(new_complaint(1), &key).await;
    assert_eq!(retry.status, StatusCode::CREATED);
    assert_eq!(retry.body, first.body, "the same answer, the same id");
    assert_eq!(retry.header("location"), first.header("location"));
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));

    let other = app
        .create_with(new_complaint(1), &[("idempotency-key", "another-key")])
        .await;
    assert_ne!(other.id(), first.id(), "another key is another complaint");
    app.settled().await;
    assert_eq!(app.ids("").await.len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn the_same_key_with_another_body_is_refused() {
    let app = spawn_app().await;
    let key = [("idempotency-key", "k-1")];
    app.create_with(new_complaint(1), &key).await;
    let reply = app.create_with(new_complaint(2), &key).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.code(), "IDEMPOTENCY_KEY_REUSED");
    app.stop().await;
}

#[tokio::test]
async fn concurrent_retries_with_one_key_create_one_complaint() {
    let app = spawn_app().await;
    let key = [("idempotency-key", "burst-1")];
    let replies = join_all((0..8).map(|_| app.create_with(new_complaint(1), &key))).await;
    let ids: Vec<String> = replies
        .iter()
        .map(|reply| {
            assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
            reply.id()
        })
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    let pool = app.pool().await;
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM complaint_events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(events, 1, "one complaint, one event");
    app.stop().await;
}

#[tokio::test]
async fn concurrent_creates_each_sent_twice_create_each_complaint_once() {
    let app = spawn_app().await;
    let keys: Vec<String> = (0..15).map(|n| format!("pair-{n}")).collect();
    // Both copies of every create at once: many share a statement (the group commit), where
    // the second copy of a key makes the statement fail and each is written again alone.
    let headers: Vec<[(&str, &str); 1]> = keys
        .iter()
        .map(|key| [("idempotency-key", key.as_str())])
        .collect();
    let sent = headers
        .iter()
        .enumerate()
        .flat_map(|(n, header)| [(n, header), (n, header)])
        .map(|(n, header)| app.create_with(new_complaint(n), header));
    let replies = join_all(sent).await;
    for pair in replies.chunks(2) {
        for reply in pair {
            assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        }
        assert_eq!(pair[0].id(), pair[1].id(), "one complaint per key");
        let replayed = pair
            .iter()
            .filter(|reply| reply.header("idempotent-replayed") == Some("true"))
            .count();
        assert_eq!(replayed, 1, "one answer is the first, the other its replay");
    }
    app.settled().await;
    assert_eq!(app.ids("").await.len(), keys.len());
    app.stop().await;
}
