//! Bounded work per request: pages that scan a window, replays and folds with a cap, and
//! documents from before `timestampMs` found by time filters. The limits are lowered so that
//! a few events reach them.

use crate::{
    events::{full_lifecycle, mixed},
    harness::{start, Servers, TestApp},
};
use chrono::{DateTime, TimeDelta, Utc};
use mongodb::bson::doc;
use reqwest::StatusCode;
use serde_json::json;
use shared::event::{Envelope, EventType, Metadata};

async fn spawn_with_limits(scan_window: i64, replay_max: u64, fold_max: usize) -> TestApp {
    let mut servers = Servers::fresh().await;
    servers.config.limits.scan_window = scan_window;
    // Every time range counts as large: pages scan windows.
    servers.config.limits.small_time_range = 0;
    servers.config.limits.replay_max_events = replay_max;
    servers.config.limits.fold_max_events = fold_max;
    start(servers).await
}

/// `n` saga events one minute apart from 2024-05-01 08:00, each its own aggregate.
fn minutes_apart(n: usize) -> Vec<Envelope> {
    let start: DateTime<Utc> = "2024-05-01T08:00:00Z".parse().expect("a time");
    (0..n)
        .map(|i| {
            let at = start + TimeDelta::minutes(i as i64);
            Envelope::new(
                EventType::SagaStarted,
                format!("saga-{i}"),
                "Saga",
                json!({ "n": i }),
                Metadata::new("test", "corr".into(), at),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_time_filtered_page_scans_a_window_and_paging_still_finds_every_match_once() {
    let app = spawn_with_limits(4, 10_000, 10_000).await;
    let events = minutes_apart(30);
    app.publisher().await.publish(&events).await;
    app.client.wait_for_count(30).await;

    let query = "from=2024-05-01T08:10:00Z&to=2024-05-01T08:20:00Z&limit=3";
    let (mut found, mut after, mut pages, mut short_pages) = (Vec::new(), 0, 0, 0);
    loop {
        let page = app.client.all(&format!("{query}&after={after}")).await;
        pages += 1;
        assert!(page.events.len() <= 3);
        assert!(page.next_after >= after, "the cursor never goes back");
        assert!(
            page.events
                .iter()
                .all(|e| e.position > after && e.position <= after + 4),
            "a page looks at four positions at most"
        );
        if page.events.len() < 3 && page.has_more {
            short_pages += 1;
        }
        found.extend(page.events.iter().map(|e| e.envelope.metadata.timestamp));
        after = page.next_after;
        if !page.has_more {
            break;
        }
    }
    let expected: Vec<DateTime<Utc>> = app
        .client
        .whole_log(100)
        .await
        .iter()
        .map(|e| e.envelope.metadata.timestamp)
        .filter(|t| {
            *t >= "2024-05-01T08:10:00Z".parse::<DateTime<Utc>>().unwrap()
                && *t < "2024-05-01T08:20:00Z".parse::<DateTime<Utc>>().unwrap()
        })
        .collect();
    assert_eq!(expected.len(), 10);
    assert_eq!(found, expected, "every match once, in global order");
    assert!(short_pages > 0, "pages outside the range come back short");
    assert_eq!(after, 30, "the last page ends at the end of the log");
    assert!(pages >= 30 / 4);

    // One exact filter is answered by its index: full pages, no window.
    let saga = app.client.all("aggregateId=saga-29").await;
    assert_eq!(saga.events.len(), 1);
    assert!(!saga.has_more);
    let sagas = app.client.all("eventType=SAGA_STARTED&limit=10").await;
    assert_eq!(sagas.events.len(), 10);
}

#[tokio::test]
async fn a_small_time_range_is_read_from_its_index_in_full_pages_wherever_it_lies() {
    let mut servers = Servers::fresh().await;
    servers.config.limits.scan_window = 4;
    servers.config.limits.small_time_range = 10;
    let app = start(servers).await;
    app.publisher().await.publish(&minutes_apart(30)).await;
    app.client.wait_for_count(30).await;

    let log = app.client.whole_log(100).await;
    let in_range: Vec<i64> = log
        .iter()
        .filter(|e| {
            let t = e.envelope.metadata.timestamp;
            t >= "2024-05-01T08:20:00Z".parse::<DateTime<Utc>>().unwrap()
        })
        .map(|e| e.position)
        .collect();
    assert_eq!(in_range.len(), 10);
    // Ten events from 08:20 on (`from` alone): two full pages, far beyond the first window.
    let first = app.client.all("from=2024-05-01T08:20:00Z&limit=5").await;
    assert!(first.has_more);
    let second = app
        .client
        .all(&format!(
            "from=2024-05-01T08:20:00Z&limit=5&after={}",
            first.next_after
        ))
        .await;
    assert!(!second.has_more);
    let found: Vec<i64> = first
        .events
        .iter()
        .chain(&second.events)
        .map(|e| e.position)
        .collect();
    assert_eq!(found, in_range);
    // Eleven events (from 08:19) are more than `small_time_range`: a window of four.
    let large = app.client.all("from=2024-05-01T08:19:00Z&limit=5").await;
    assert!(large.events.len() < 5 && large.has_more);
}

#[tokio::test]
async fn statistics_count_types_aggregate_types_and_domain_streams() {
    let app = spawn_with_limits(10_000, 10_000, 10_000).await;
    let complaint = full_lifecycle("c-stats");
    let mut published = mixed(10);
    published.extend(complaint.envelopes.clone());
    app.publisher().await.publish(&published).await;
    app.client.wait_for_count(18).await;

    let stats = app.client.statistics().await;
    assert_eq!(stats.total_events, 18);
    assert_eq!(stats.last_position, 18);
    assert_eq!(stats.by_aggregate_type["Complaint"], 8);
    assert_eq!(stats.by_event_type["SAGA_STARTED"], 2);
    assert_eq!(stats.by_domain_stream["complaints-stream"], 8);
    assert_eq!(
        stats.by_domain_stream.values().sum::<u64>(),
        18,
        "every event in one domain stream"
    );
}

#[tokio::test]
async fn a_replay_larger_than_the_cap_is_refused_before_anything_is_sent() {
    let app = spawn_with_limits(10_000, 3, 10_000).await;
    let complaint = full_lifecycle("c-cap");
    app.publisher().await.publish(&complaint.envelopes).await;
    app.client.wait_for_count(8).await;

    let refused = app
        .client
        .post(
            "/api/events/replay/Complaint-c-cap",
            json!({ "redisStream": "capped" }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.code(), "TOO_LARGE");
    assert_eq!(refused.body["error"]["details"]["field"], "toVersion");
    let mut redis = app.servers.redis().await;
    let exists: i64 = redis::cmd("EXISTS")
        .arg(app.servers.redis_key("capped"))
        .query_async(&mut redis)
        .await
        .expect("Redis answers");
    assert_eq!(exists, 0, "nothing was sent");

    // In parts, within the cap.
    for (from, to, count) in [(1, 3, 3), (4, 6, 3), (7, 9, 2)] {
        let result = app
            .client
            .replay(
                "Complaint-c-cap",
                json!({ "redisStream": "capped", "fromVersion": from, "toVersion": to }),
            )
            .await;
        assert_eq!(result.count, count);
    }
    let read = app.client.read_group("capped", "g", "r", 100).await.entries;
    let versions: Vec<i64> = read
        .iter()
        .map(|e| e.envelope.as_ref().expect("an envelope").metadata.version)
        .collect();
    assert_eq!(versions, (1..=8).collect::<Vec<_>>());

    let backwards = app
        .client
        .post(
            "/api/events/replay/Complaint-c-cap",
            json!({ "exchange": true, "fromVersion": 4, "toVersion": 2 }),
        )
        .await;
    // A range that runs backwards selects nothing, like any range without events.
    assert_eq!(backwards.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_state_with_more_events_than_the_cap_is_refused_but_earlier_versions_fold() {
    let app = spawn_with_limits(10_000, 10_000, 5).await;
    let complaint = full_lifecycle("c-fold");
    app.publisher().await.publish(&complaint.envelopes).await;
    app.client.wait_for_count(8).await;

    let refused = app.client.get("/api/events/state/c-fold").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.code(), "TOO_LARGE");
    let earlier = app.client.state("c-fold", "atVersion=5").await;
    assert_eq!(earlier.version, 5);
    assert_eq!(
        serde_json::to_value(&earlier.state).unwrap(),
        serde_json::to_value(&complaint.states[4]).unwrap()
    );
}

#[tokio::test]
async fn events_stored_before_the_time_field_existed_are_found_by_time_filters_after_a_restart() {
    let app = spawn_with_limits(10_000, 10_000, 10_000).await;
    let complaint = full_lifecycle("c-old");
    app.publisher().await.publish(&complaint.envelopes).await;
    app.client.wait_for_count(8).await;
    let servers = app.stop().await;

    // As an older version stored them: no `timestampMs`.
    let mongo = mongodb::Client::with_uri_str(&servers.config.mongo.url)
        .await
        .expect("MongoDB");
    let events = mongo
        .database(&servers.config.mongo.database)
        .collection::<mongodb::bson::Document>("events");
    events
        .update_many(doc! {}, doc! { "$unset": { "timestampMs": "" } })
        .await
        .expect("the field is removed");
    let left = events
        .find_one(doc! { "timestampMs": { "$exists": true } })
        .await
        .expect("a query");
    assert!(left.is_none());
    mongo.shutdown().await;

    let app = start(servers).await;
    // The lifecycle's events are one hour apart from 08:00 on 2024-05-01.
    let window = app
        .client
        .all("from=2024-05-01T09:00:00Z&to=2024-05-01T11:00:00Z")
        .await;
    let versions: Vec<i64> = window
        .events
        .iter()
        .map(|e| e.envelope.metadata.version)
        .collect();
    assert_eq!(versions, [2, 3]);
    let then = app.client.state("c-old", "asOf=2024-05-01T10:30:00Z").await;
    assert_eq!(then.version, 3);
}
