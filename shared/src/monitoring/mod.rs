//! The monitor every service can run: it looks at its queues and its dependencies every
//! `interval` and raises a `MONITORING_*` event on `monitoring.events` when an episode begins
//! (pure bookkeeping in [`episode`]):
//!
//! - MONITORING_CONSUMER_LAG_HIGH: a work queue has held more than `lag_messages` ready
//!   messages for `lag_for` (its consumers are not keeping up);
//! - MONITORING_DLQ_GROWING: messages are arriving in a dead-letter queue;
//! - MONITORING_SERVICE_DEGRADED: a dependency of `/ready` has been down for `degraded_after`.
//!
//! Events that cannot be published (the broker is the dependency that is down) are kept and
//! sent at a later look, so an episode is announced late rather than never.

pub mod episode;

use crate::{
    event::{
        monitoring::{ConsumerLagHigh, DlqGrowing, ServiceDegraded},
        Envelope, EventType, Metadata,
    },
    http::Readiness,
    lifecycle::Background,
    messaging::{Broker, QueueDepth},
};
use episode::{Edge, Episode, Growth};
use serde::{Deserialize, Serialize};
use std::{
    collections::HashMap,
    time::{Duration, Instant},
};
use tokio_util::sync::CancellationToken;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MonitorSettings {
    pub enabled: bool,
    /// How often it looks.
    #[serde(with = "crate::config::millis")]
    pub interval: Duration,
    /// A work queue with more ready messages than this…
    pub lag_messages: u32,
    /// …for this long is lagging.
    #[serde(with = "crate::config::millis")]
    pub lag_for: Duration,
    /// A dependency down this long degrades the service.
    #[serde(with = "crate::config::millis")]
    pub degraded_after: Duration,
}

impl Default for MonitorSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            interval: Duration::from_secs(10),
            lag_messages: 1000,
            lag_for: Duration::from_secs(60),
            degraded_after: Duration::from_secs(60),
        }
    }
}

/// At most this many unsent events are kept while the broker is away.
const MAX_UNSENT: usize = 1000;

pub struct Monitor {
    broker: Broker,
    readiness: Readiness,
    settings: MonitorSettings,
    shutdown: CancellationToken,
    lag: HashMap<String, Episode>,
    dead_letters: HashMap<String, Growth>,
    down: HashMap<String, Episode>,
    unsent: Vec<Envelope>,
}

impl Monitor {
    /// Watches `broker`'s queues and `readiness`'s dependencies until the service stops.
    pub fn spawn(
        broker: &Broker,
        readiness: Readiness,
        settings: MonitorSettings,
        background: &Background,
    ) {
        if !settings.enabled {
            return;
        }
        for raised in [
            EventType::MonitoringConsumerLagHigh,
            EventType::MonitoringDlqGrowing,
            EventType::MonitoringServiceDegraded,
        ] {
            metrics::counter!("monitoring_events_total", "event_type" => raised.as_str())
                .increment(0);
        }
        let monitor = Monitor {
            broker: broker.clone(),
            readiness,
            settings,
            shutdown: background.shutdown.clone(),
            lag: HashMap::new(),
            dead_letters: HashMap::new(),
            down: HashMap::new(),
            unsent: Vec::new(),
        };
        background.tracker.spawn(monitor.run());
    }

    async fn run(mut self) {
        loop {
            self.look().await;
            tokio::select! {
                _ = self.shutdown.cancelled() => break,
                _ = tokio::time::sleep(self.settings.interval) => {}
            }
        }
    }

    /// One look: observe, then send what began (and what could not be sent before).
    async fn look(&mut self) {
        let now = Instant::now();
        let (_, checks) = self.readiness.run().await;
        for (dependency, state) in checks {
            let down = state != "up";
            self.observe_dependency(&dependency, down, now);
        }
        match self.broker.queue_depths().await {
            Ok(depths) => {
                for depth in depths {
                    self.observe_queue(&depth, now);
                }
            }
            Err(error) => tracing::debug!(%error, "cannot measure the queues"),
        }
        self.send().await;
    }

    fn observe_dependency(&mut self, dependency: &str, down: bool, now: Instant) {
        let hold = self.settings.degraded_after;
        let service = self.service().to_owned();
        let episode = self
            .down
            .entry(dependency.to_owned())
            .or_insert_with(|| Episode::new(hold));
        match episode.observe(down, now) {
            Some(Edge::Began) => {
                let data = ServiceDegraded {
                    service,
                    dependency: dependency.to_owned(),
                    down_for_seconds: episode.lasted(now).as_secs(),
                };
                tracing::warn!(dependency, "service degraded: a dependency is down");
                self.raise(EventType::MonitoringServiceDegraded, dependency, &data);
            }
            Some(Edge::Ended) => tracing::info!(dependency, "dependency back"),
            None => {}
        }
    }

    fn observe_queue(&mut self, depth: &QueueDepth, now: Instant) {
        let hold = self.settings.lag_for;
        let lagging = depth.ready > self.settings.lag_messages;
        let lag = self
            .lag
            .entry(depth.queue.clone())
            .or_insert_with(|| Episode::new(hold));
        if lag.observe(lagging, now) == Some(Edge::Began) {
            let data = ConsumerLagHigh {
                service: self.service().to_owned(),
                queue: depth.queue.clone(),
                messages: depth.ready,
                threshold: self.settings.lag_messages,
            };
            tracing::warn!(queue = %depth.queue, ready = depth.ready, "consumer lag high");
            self.raise(EventType::MonitoringConsumerLagHigh, &depth.queue, &data);
        }
        let growth = self
            .dead_letters
            .entry(depth.queue.clone())
            .or_default()
            .observe(depth.dead_letters);
        if let Some(grew) = growth {
            let data = DlqGrowing {
                service: self.service().to_owned(),
                queue: depth.queue.clone(),
                dead_letter_queue: depth.dead_letter_queue.clone(),
                from: grew.from,
                messages: grew.to,
            };
            tracing::warn!(dlq = %depth.dead_letter_queue, from = grew.from, to = grew.to, "dead-letter queue growing");
            self.raise(EventType::MonitoringDlqGrowing, &depth.queue, &data);
        }
    }

    fn raise(&mut self, event_type: EventType, subject: &str, data: &impl Serialize) {
        metrics::counter!("monitoring_events_total", "event_type" => event_type.as_str())
            .increment(1);
        let service = self.service().to_owned();
        let metadata = Metadata::new(
            &service,
            uuid::Uuid::now_v7().to_string(),
            chrono::Utc::now(),
        );
        let event = Envelope::new(
            event_type,
            format!("{service}/{subject}"),
            "Monitor",
            serde_json::to_value(data).unwrap_or_default(),
            metadata,
        );
        if self.unsent.len() < MAX_UNSENT {
            self.unsent.push(event);
        }
    }

    async fn send(&mut self) {
        if self.unsent.is_empty() {
            return;
        }
        match self.broker.publisher().publish_all(&self.unsent).await {
            Ok(()) => self.unsent.clear(),
            Err(error) => {
                tracing::warn!(%error, kept = self.unsent.len(), "cannot publish monitoring events yet")
            }
        }
    }

    fn service(&self) -> &str {
        &self.broker.settings().service_name
    }
}
