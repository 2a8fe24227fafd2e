//! Optimistic concurrency: of two writers who read the same version, one wins and the other
//! gets 409 with the current version; no update is ever lost.

use crate::harness::spawn_app;
use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn two_concurrent_commands_on_one_complaint_give_one_success_and_one_conflict() {
    let app = spawn_app().await;
    let id = app.created(1).await;

    let (a, b) = tokio::join!(
        app.command_with(
            &id,
            "assign",
            json!({ "agentId": "agent-a" }),
            &[("if-match", "\"1\"")]
        ),
        app.command_with(
            &id,
            "assign",
            json!({ "agentId": "agent-b" }),
            &[("if-match", "\"1\"")]
        ),
    );

    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    let (winner, loser) = if a.status == StatusCode::OK {
        (&a, &b)
    } else {
        (&b, &a)
    };
    assert_eq!(loser.code(), "VERSION_CONFLICT");
    assert_eq!(loser.body["error"]["details"]["currentVersion"], 2);
    let view = app.complaint_at(&id, 2).await;
    assert_eq!(view["assignee"], winner.body["assignee"]);
    assert_eq!(view["version"], 2);
    app.stop().await;
}

#[tokio::test]
async fn racing_writers_without_if_match_never_lose_an_update() {
    let app = spawn_app().await;
    let id = app.created(1).await;

    let replies = join_all(
        (0..10).map(|n| app.command(&id, "assign", json!({ "agentId": format!("agent-{n}") }))),
    )
    .await;

    let mut successes = 0;
    for reply in &replies {
        match reply.status {
            StatusCode::OK => successes += 1,
            StatusCode::CONFLICT => {
                assert_eq!(reply.code(), "VERSION_CONFLICT", "{:?}", reply.body);
                assert!(reply.body["error"]["details"]["currentVersion"].as_i64() > Some(1));
            }
            other => panic!("unexpected {other}: {:?}", reply.body),
        }
    }
    assert!(successes >= 1);
    let versions: Vec<i64> = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .map(|r| r.version())
        .collect();
    let mut distinct = versions.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        versions.len(),
        "each success made its own version"
    );
    let view = app.complaint_at(&id, 1 + successes).await;
    assert_eq!(
        view["version"],
        1 + successes,
        "one event per success, none lost"
    );
    assert_eq!(
        view["timeline"].as_array().unwrap().len() as i64,
        1 + successes
    );
    app.stop().await;
}

#[tokio::test]
async fn if_match_with_an_old_version_is_refused_and_the_etag_works_as_if_match() {
    let app = spawn_app().await;
    let id = app.created(1).await;
    app.ok(&id, "assign", json!({ "agentId": "agent-1" })).await;

    let stale = app
        .command_with(&id, "process", Value::Null, &[("if-match", "1")])
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert_eq!(stale.code(), "VERSION_CONFLICT");
    assert_eq!(stale.body["error"]["details"]["currentVersion"], 2);
    assert_eq!(stale.body["error"]["details"]["expectedVersion"], 1);

    let read = app.get(&format!("/api/complaints/{id}?minVersion=2")).await;
    let etag = read.header("etag").expect("an ETag").to_owned();
    assert_eq!(etag, "\"2\"");
    let fresh = app
        .command_with(&id, "process", Value::Null, &[("if-match", &etag)])
        .await;
    assert_eq!(fresh.status, StatusCode::OK, "{:?}", fresh.body);
    assert_eq!(fresh.header("etag"), Some("\"3\""));

    let any = app
        .command_with(
            &id,
            "priority",
            json!({ "priority": "LOW" }),
            &[("if-match", "*")],
        )
        .await;
    assert_eq!(any.status, StatusCode::OK);
    app.stop().await;
}
