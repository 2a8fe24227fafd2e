//! The monitor against a real broker: each episode (a growing DLQ, a deep queue, a dependency
//! down) raises one MONITORING_* event on `monitoring.events`, however often it looks.

use chrono::Utc;
use serde_json::json;
use shared::{
    event::{exchanges, Envelope, EventType, Metadata},
    http::Readiness,
    lifecycle::Background,
    messaging::{Broker, Handler, HandlerError, QueueSpec, Topology},
    monitoring::{Monitor, MonitorSettings},
    test_support::{self, eventually, TestVhost},
};
use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

const QUEUE: &str = "watched-service.work";
const WAIT: Duration = Duration::from_secs(20);

/// Refuses every event for good, so each one ends in the DLQ.
struct Refuse;

impl Handler for Refuse {
    async fn handle(&self, _: &Envelope) -> Result<(), HandlerError> {
        Err(HandlerError::Permanent(anyhow::anyhow!("never valid")))
    }
}

/// Collects the events of the tap queue.
#[derive(Clone, Default)]
struct Heard(Arc<Mutex<Vec<Envelope>>>);

impl Handler for Heard {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        self.0.lock().unwrap().push(event.clone());
        Ok(())
    }
}

impl Heard {
    fn of(&self, event_type: EventType) -> Vec<Envelope> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.event_type == event_type.as_str())
            .cloned()
            .collect()
    }

    async fn wait_for(&self, event_type: EventType) -> Envelope {
        eventually(event_type.as_str(), WAIT, || async {
            self.of(event_type).into_iter().next()
        })
        .await
    }
}

struct Watched {
    _vhost: TestVhost,
    service: Broker,
    tap: Broker,
    heard: Heard,
    background: Background,
}

/// A service with one work queue (consumed by `handler`, if any) and its monitor, looking
/// every 100 ms; a tap on `monitoring.events`.
async fn watched(
    handler: Option<Refuse>,
    readiness: Readiness,
    settings: MonitorSettings,
) -> Watched {
    let vhost = TestVhost::create().await;
    let service_settings = test_support::broker(&vhost, "watched-service");
    let service = Broker::start(
        service_settings.clone(),
        Topology::new(service_settings.retry.clone())
            .with_queue(QueueSpec::new(QUEUE).bind(exchanges::COMPLAINTS, "#")),
    );
    let tap_settings = test_support::broker(&vhost, "monitoring-tap");
    let tap = Broker::start(
        tap_settings.clone(),
        Topology::new(tap_settings.retry.clone())
            .with_queue(QueueSpec::new("tap.monitoring").bind(exchanges::MONITORING, "#")),
    );
    assert!(service.wait_ready(WAIT).await && tap.wait_ready(WAIT).await);
    let background = Background::new();
    let heard = Heard::default();
    tap.spawn_consumer(
        "tap.monitoring",
        heard.clone(),
        &background.tracker,
        background.shutdown.clone(),
    );
    if let Some(handler) = handler {
        service.spawn_consumer(
            QUEUE,
            handler,
            &background.tracker,
            background.shutdown.clone(),
        );
    }
    Monitor::spawn(
        &service,
        readiness,
        MonitorSettings {
            interval: Duration::from_millis(100),
            ..settings
        },
        &background,
    );
    Watched {
        _vhost: vhost,
        service,
        tap,
        heard,
        background,
    }
}

impl Watched {
    async fn publish(&self, count: usize) {
        for i in 0..count {
            let event = Envelope::new(
                EventType::ComplaintCreated,
                format!("c-{i}"),
                "Complaint",
                json!({ "title": "t" }),
                Metadata::new("test", "corr".into(), Utc::now()).with_version(1),
            );
            self.service.publisher().publish(&event).await.unwrap();
        }
    }

    async fn dead_letters(&self, count: u32) {
        eventually(&format!("{count} dead letters"), WAIT, || async {
            let depths = self.service.queue_depths().await.ok()?;
            (depths[0].dead_letters >= count).then_some(())
        })
        .await;
    }

    async fn stop(self) {
        self.background.stop(&self.service).await;
        self.tap.close().await;
    }
}

#[tokio::test]
async fn a_growing_dead_letter_queue_is_announced_once_per_episode() {
    let watched = watched(Some(Refuse), Readiness::new(), MonitorSettings::default()).await;
    watched.publish(1).await;
    watched.dead_letters(1).await;
    let growing = watched
        .heard
        .wait_for(EventType::MonitoringDlqGrowing)
        .await;
    assert_eq!(growing.event_data["queue"], QUEUE);
    assert_eq!(
        growing.event_data["deadLetterQueue"],
        format!("{QUEUE}.dlq")
    );
    assert_eq!(growing.event_data["service"], "watched-service");
    assert_eq!(growing.metadata.source, "watched-service");

    // More dead letters, several looks later: the same episode.
    watched.publish(3).await;
    watched.dead_letters(4).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(watched.heard.of(EventType::MonitoringDlqGrowing).len(), 1);
    watched.stop().await;
}

#[tokio::test]
async fn a_queue_that_fills_up_without_being_consumed_raises_consumer_lag_once() {
    let watched = watched(
        None,
        Readiness::new(),
        MonitorSettings {
            lag_messages: 5,
            lag_for: Duration::from_millis(200),
            ..MonitorSettings::default()
        },
    )
    .await;
    watched.publish(3).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(watched
        .heard
        .of(EventType::MonitoringConsumerLagHigh)
        .is_empty());

    watched.publish(5).await;
    let lag = watched
        .heard
        .wait_for(EventType::MonitoringConsumerLagHigh)
        .await;
    assert_eq!(lag.event_data["queue"], QUEUE);
    let messages = lag.event_data["messages"].as_u64().unwrap();
    assert!((6..=8).contains(&messages), "{messages}");
    assert_eq!(lag.event_data["threshold"], 5);
    watched.publish(5).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        watched.heard.of(EventType::MonitoringConsumerLagHigh).len(),
        1
    );
    watched.stop().await;
}

#[tokio::test]
async fn a_dependency_down_longer_than_the_threshold_degrades_the_service_once() {
    // A dependency nothing answers for: a port bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let readiness = Readiness::new().check("search-engine", move || async move {
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
    });
    let watched = watched(
        None,
        readiness,
        MonitorSettings {
            degraded_after: Duration::from_millis(300),
            ..MonitorSettings::default()
        },
    )
    .await;
    let degraded = watched
        .heard
        .wait_for(EventType::MonitoringServiceDegraded)
        .await;
    assert_eq!(degraded.event_data["dependency"], "search-engine");
    assert_eq!(degraded.event_data["service"], "watched-service");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        watched.heard.of(EventType::MonitoringServiceDegraded).len(),
        1
    );
    watched.stop().await;
}
