//! A service killed in the middle of a backlog loses nothing and duplicates nothing, in
//! MongoDB or in Redis.

use crate::{
    events::mixed,
    harness::{Servers, WAIT},
    process::ServiceProcess,
};
use redis::streams::StreamRangeReply;
use shared::test_support::eventually;
use std::collections::HashSet;

#[tokio::test]
async fn a_service_killed_mid_backlog_stores_and_mirrors_every_event_exactly_once() {
    let servers = Servers::fresh().await;
    let backlog = mixed(4000);
    servers.publisher().await.publish(&backlog).await;

    let first = ServiceProcess::start(&servers).await;
    let stored_before_kill = eventually("a part of the backlog stored", WAIT, || async {
        let page = first.client.all("after=200&limit=1").await;
        page.events.first().map(|e| e.position)
    })
    .await;
    first.kill();

    let second = ServiceProcess::start(&servers).await;
    second.client.wait_for_count_within(4000, WAIT * 4).await;
    let log = second.client.whole_log(1000).await;
    assert!(stored_before_kill > 200);
    assert_eq!(
        log.iter().map(|e| e.position).collect::<Vec<_>>(),
        (1..=4000).collect::<Vec<_>>(),
        "contiguous positions"
    );
    let stored: HashSet<String> = log
        .iter()
        .map(|e| e.envelope.event_id.to_string())
        .collect();
    let published: HashSet<String> = backlog.iter().map(|e| e.event_id.to_string()).collect();
    assert_eq!(stored, published);

    // Every event is in its domain stream once, under its position.
    servers.wait_for_mirror(4000).await;
    let mut redis = servers.redis().await;
    let mut positions = Vec::new();
    for stream in shared::event::streams::ALL {
        let range: StreamRangeReply = redis::cmd("XRANGE")
            .arg(servers.redis_key(stream))
            .arg("-")
            .arg("+")
            .query_async(&mut redis)
            .await
            .expect("XRANGE");
        positions.extend(range.ids.iter().map(|e| {
            e.id.trim_end_matches("-0")
                .parse::<i64>()
                .expect("<position>-0")
        }));
    }
    positions.sort_unstable();
    assert_eq!(positions, (1..=4000).collect::<Vec<_>>());
}
