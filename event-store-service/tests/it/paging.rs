//! Paging the global log and one stream.

use crate::{
    events::{full_lifecycle, mixed},
    harness::{spawn_app, WAIT},
};
use std::collections::HashSet;

#[tokio::test]
async fn paging_all_visits_every_event_once_in_order() {
    let app = spawn_app().await;
    let published = mixed(250);
    app.publisher().await.publish(&published).await;
    app.client.wait_for_count(250).await;

    let log = app.client.whole_log(7).await;
    let positions: Vec<i64> = log.iter().map(|e| e.position).collect();
    assert_eq!(positions, (1..=250).collect::<Vec<_>>());
    let distinct: HashSet<_> = log.iter().map(|e| e.envelope.event_id).collect();
    assert_eq!(distinct.len(), 250);
}

#[tokio::test]
async fn paging_while_events_are_being_stored_misses_nothing_and_repeats_nothing() {
    let app = spawn_app().await;
    let publisher = app.publisher().await;
    let published = mixed(600);
    let writer = tokio::spawn(async move {
        for chunk in published.chunks(50) {
            publisher.publish(chunk).await;
        }
    });

    // A reader tailing the log with the cursor while ingestion is running.
    let mut seen = Vec::new();
    let mut after = 0;
    let deadline = tokio::time::Instant::now() + WAIT * 2;
    while seen.len() < 600 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the reader saw {} of 600",
            seen.len()
        );
        let page = app.client.all(&format!("after={after}&limit=13")).await;
        after = page.next_after;
        seen.extend(page.events.iter().map(|e| e.position));
        if page.events.is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    writer.await.expect("the writer ends");
    assert_eq!(seen, (1..=600).collect::<Vec<_>>());
}

#[tokio::test]
async fn filters_narrow_the_log_and_keep_the_cursor() {
    let app = spawn_app().await;
    let complaint = full_lifecycle("c-filters");
    let mut published = mixed(10);
    published.extend(complaint.envelopes.clone());
    app.publisher().await.publish(&published).await;
    app.client.wait_for_count(18).await;

    let complaints = app.client.all("aggregateType=Complaint&limit=3").await;
    assert_eq!(complaints.events.len(), 3);
    assert!(complaints.has_more);
    let rest = app
        .client
        .all(&format!(
            "aggregateType=Complaint&after={}",
            complaints.next_after
        ))
        .await;
    assert_eq!(rest.events.len(), 5);
    assert!(!rest.has_more);

    let assigned = app.client.all("eventType=COMPLAINT_ASSIGNED").await;
    assert_eq!(assigned.events.len(), 2);
    let correlated = app.client.all("correlationId=corr-c-filters").await;
    assert_eq!(correlated.events.len(), 8);
    let by_id = app.client.all("aggregateId=c-filters").await;
    assert_eq!(by_id.events.len(), 8);

    // The lifecycle's events are one hour apart from 08:00 on 2024-05-01.
    let window = app
        .client
        .all("aggregateType=Complaint&from=2024-05-01T09:00:00Z&to=2024-05-01T11:00:00Z")
        .await;
    let versions: Vec<i64> = window
        .events
        .iter()
        .map(|e| e.envelope.metadata.version)
        .collect();
    assert_eq!(versions, [2, 3]);
}

#[tokio::test]
async fn a_stream_reads_in_version_order_from_a_version() {
    let app = spawn_app().await;
    let complaint = full_lifecycle("c-stream");
    // Published in reverse: the log stores them in arrival order, the stream reads by version.
    let mut reversed = complaint.envelopes.clone();
    reversed.reverse();
    app.publisher().await.publish(&reversed).await;
    app.client.wait_for_count(8).await;

    let page = app.client.stream(&complaint.stream_id(), "").await;
    let versions: Vec<i64> = page
        .events
        .iter()
        .map(|e| e.envelope.metadata.version)
        .collect();
    assert_eq!(versions, (1..=8).collect::<Vec<_>>());
    assert_eq!(page.events[0].envelope, complaint.envelopes[0]);
    assert_eq!(page.next_from_version, None);

    let first = app
        .client
        .stream(&complaint.stream_id(), "fromVersion=3&limit=2")
        .await;
    let versions: Vec<i64> = first
        .events
        .iter()
        .map(|e| e.envelope.metadata.version)
        .collect();
    assert_eq!(versions, [3, 4]);
    assert_eq!(first.next_from_version, Some(5));
}
