//! The messaging core against a real broker: confirmed publishing, retries through delay
//! queues, dead letters, healing after a forced close, and graceful shutdown.

use chrono::Utc;
use serde_json::json;
use shared::{
    event::{exchanges, Envelope, EventType, Metadata},
    messaging::{Broker, BrokerSettings, Handler, HandlerError, Outgoing, QueueSpec, Topology},
    test_support::{self, eventually, TestVhost},
};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use uuid::Uuid;

const QUEUE: &str = "test-service.complaints";
const WAIT: Duration = Duration::from_secs(20);

/// What the handler does with each event: how many times to fail first, and how.
#[derive(Clone, Copy)]
enum Behaviour {
    Succeed,
    FailTransiently(u32),
    AlwaysFailTransiently,
    Reject,
    Slow(Duration),
}

/// Records every attempt and every success, by event id.
#[derive(Clone)]
struct Recorder {
    behaviour: Behaviour,
    attempts: Arc<Mutex<HashMap<Uuid, Vec<Instant>>>>,
    handled: Arc<Mutex<Vec<Uuid>>>,
    correlation_ids: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    fn new(behaviour: Behaviour) -> Self {
        Self {
            behaviour,
            attempts: Arc::default(),
            handled: Arc::default(),
            correlation_ids: Arc::default(),
        }
    }

    fn handled(&self) -> Vec<Uuid> {
        self.handled.lock().unwrap().clone()
    }

    /// The correlation ids of the events handled, in the order handled.
    fn correlation_ids(&self) -> Vec<String> {
        self.correlation_ids.lock().unwrap().clone()
    }

    fn attempts_of(&self, id: Uuid) -> Vec<Instant> {
        self.attempts
            .lock()
            .unwrap()
            .get(&id)
            .cloned()
            .unwrap_or_default()
    }
}

impl Handler for Recorder {
    async fn handle(&self, event: &Envelope) -> Result<(), HandlerError> {
        let attempt = {
            let mut attempts = self.attempts.lock().unwrap();
            let list = attempts.entry(event.event_id).or_default();
            list.push(Instant::now());
            list.len() as u32
        };
        let failure = match self.behaviour {
            Behaviour::Succeed => None,
            Behaviour::FailTransiently(times) if attempt <= times => {
                Some(HandlerError::Transient(anyhow::anyhow!("database is down")))
            }
            Behaviour::FailTransiently(_) => None,
            Behaviour::AlwaysFailTransiently => {
                Some(HandlerError::Transient(anyhow::anyhow!("database is down")))
            }
            Behaviour::Reject => Some(HandlerError::Permanent(anyhow::anyhow!(
                "complaint title is missing"
            ))),
            Behaviour::Slow(pause) => {
                tokio::time::sleep(pause).await;
                None
            }
        };
        match failure {
            Some(error) => Err(error),
            None => {
                self.handled.lock().unwrap().push(event.event_id);
                let correlation_id = event.metadata.correlation_id.clone();
                self.correlation_ids.lock().unwrap().push(correlation_id);
                Ok(())
            }
        }
    }
}

struct Harness {
    vhost: TestVhost,
    broker: Broker,
    tracker: TaskTracker,
    shutdown: CancellationToken,
}

impl Harness {
    async fn start(handler: Recorder) -> Harness {
        let vhost = TestVhost::create().await;
        Self::start_on(vhost, handler).await
    }

    async fn start_on(vhost: TestVhost, handler: Recorder) -> Harness {
        let settings = test_support::quorum_broker(&vhost, "test-service");
        let broker = connected(settings).await;
        let tracker = TaskTracker::new();
        let shutdown = CancellationToken::new();
        broker.spawn_consumer(QUEUE, handler, &tracker, shutdown.clone());
        Harness {
            vhost,
            broker,
            tracker,
            shutdown,
        }
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.tracker.close();
        self.tracker.wait().await;
        self.broker.close().await;
    }
}

fn topology(settings: &BrokerSettings) -> Topology {
    Topology::new(settings.retry.clone()).with_queue(
        QueueSpec::new(QUEUE)
            .bind(exchanges::COMPLAINTS, "complaint.*")
            .bind(exchanges::ERRORS, "#"),
    )
}

async fn connected(settings: BrokerSettings) -> Broker {
    let broker = Broker::start(settings.clone(), topology(&settings));
    assert!(broker.wait_ready(WAIT).await, "the broker never got ready");
    broker
}

fn complaint_created(n: usize) -> Envelope {
    Envelope::new(
        EventType::ComplaintCreated,
        format!("complaint-{n}"),
        "Complaint",
        json!({ "title": format!("complaint {n}") }),
        Metadata::new("test", Uuid::new_v4().to_string(), Utc::now()),
    )
}

#[tokio::test]
async fn a_confirmed_publish_is_consumed_exactly_once() {
    let recorder = Recorder::new(Behaviour::Succeed);
    let harness = Harness::start(recorder.clone()).await;
    let events: Vec<Envelope> = (0..20).map(complaint_created).collect();

    harness
        .broker
        .publisher()
        .publish_all(&events)
        .await
        .unwrap();

    let handled = eventually("all 20 events", WAIT, || async {
        let handled = recorder.handled();
        (handled.len() >= 20).then_some(handled)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let expected: Vec<Uuid> = events.iter().map(|e| e.event_id).collect();
    assert_eq!(handled, expected, "each event once, in publishing order");
    assert_eq!(recorder.handled().len(), 20, "nothing was delivered twice");
    harness.stop().await;
}

#[tokio::test]
async fn a_transient_failure_is_retried_with_growing_delays_then_succeeds() {
    let recorder = Recorder::new(Behaviour::FailTransiently(2));
    let harness = Harness::start(recorder.clone()).await;
    let event = complaint_created(1);

    harness.broker.publisher().publish(&event).await.unwrap();

    eventually("the third attempt to succeed", WAIT, || async {
        recorder.handled().contains(&event.event_id).then_some(())
    })
    .await;
    let attempts = recorder.attempts_of(event.event_id);
    assert_eq!(attempts.len(), 3);
    let first_wait = attempts[1] - attempts[0];
    let second_wait = attempts[2] - attempts[1];
    // The test policy waits 200 ms, then 400 ms.
    assert!(first_wait >= Duration::from_millis(200), "{first_wait:?}");
    assert!(second_wait >= Duration::from_millis(400), "{second_wait:?}");
    assert!(second_wait > first_wait);
    let dead = harness.broker.peek_dead_letters(QUEUE, 10).await.unwrap();
    assert!(dead.is_empty(), "nothing was dead-lettered: {dead:?}");
    harness.stop().await;
}

#[tokio::test]
async fn a_message_that_always_fails_ends_in_the_dlq_with_its_reason() {
    let recorder = Recorder::new(Behaviour::AlwaysFailTransiently);
    let harness = Harness::start(recorder.clone()).await;
    let event = complaint_created(1);

    harness.broker.publisher().publish(&event).await.unwrap();

    let dead = eventually("the message in the DLQ", WAIT, || async {
        let dead = harness.broker.peek_dead_letters(QUEUE, 10).await.unwrap();
        (!dead.is_empty()).then_some(dead)
    })
    .await;
    assert_eq!(dead.len(), 1);
    let letter = &dead[0];
    assert_eq!(
        letter.message_id.as_deref(),
        Some(event.event_id.to_string().as_str())
    );
    assert_eq!(letter.failure_kind.as_deref(), Some("retries-exhausted"));
    assert_eq!(letter.reason.as_deref(), Some("database is down"));
    assert_eq!(letter.attempts, 3, "the configured number of attempts");
    assert_eq!(letter.original_queue.as_deref(), Some(QUEUE));
    assert_eq!(recorder.attempts_of(event.event_id).len(), 3);
    assert_eq!(letter.body["eventId"], json!(event.event_id));
    harness.stop().await;
}

#[tokio::test]
async fn an_undecodable_message_goes_straight_to_the_dlq_and_raises_an_alarm() {
    let alarms = Recorder::new(Behaviour::Succeed);
    let harness = Harness::start(Recorder::new(Behaviour::Reject)).await;
    // A second consumer on the errors exchange sees the ERROR_DEAD_LETTER_QUEUED alarm.
    let alarm_queue = "test-service.alarms";
    let alarm_broker = Broker::start(
        harness.broker.settings().clone(),
        Topology::new(harness.broker.settings().retry.clone())
            .with_queue(QueueSpec::new(alarm_queue).bind(exchanges::ERRORS, "#")),
    );
    assert!(alarm_broker.wait_ready(WAIT).await);
    let tracker = TaskTracker::new();
    let stop = CancellationToken::new();
    alarm_broker.spawn_consumer(alarm_queue, alarms.clone(), &tracker, stop.clone());

    harness
        .broker
        .publisher()
        .send(vec![Outgoing {
            exchange: exchanges::COMPLAINTS,
            routing_key: "complaint.created",
            payload: b"{ this is not json",
            properties: lapin::BasicProperties::default()
                .with_message_id("garbage-1".into())
                .with_correlation_id("request-of-the-garbage".into()),
        }])
        .await
        .unwrap();

    let dead = eventually("the garbage in the DLQ", WAIT, || async {
        let dead = harness.broker.peek_dead_letters(QUEUE, 10).await.unwrap();
        (!dead.is_empty()).then_some(dead)
    })
    .await;
    assert_eq!(dead[0].message_id.as_deref(), Some("garbage-1"));
    assert_eq!(dead[0].failure_kind.as_deref(), Some("undecodable"));
    assert_eq!(dead[0].attempts, 1, "no retry for what cannot be decoded");
    assert_eq!(dead[0].body, json!("{ this is not json"));
    eventually("an ERROR_DEAD_LETTER_QUEUED alarm", WAIT, || async {
        (!alarms.handled().is_empty()).then_some(())
    })
    .await;
    // The body could not be read, but the request's id on the message's properties could:
    // the alarm carries it, so an operator can trace the garbage back to its request.
    assert_eq!(alarms.correlation_ids(), ["request-of-the-garbage"]);

    stop.cancel();
    tracker.close();
    tracker.wait().await;
    alarm_broker.close().await;
    harness.stop().await;
}

#[tokio::test]
async fn a_permanent_failure_is_dead_lettered_at_once_and_can_be_redriven() {
    let rejecting = Recorder::new(Behaviour::Reject);
    let harness = Harness::start(rejecting.clone()).await;
    let event = complaint_created(7);
    harness.broker.publisher().publish(&event).await.unwrap();
    let dead = eventually("the rejected message in the DLQ", WAIT, || async {
        let dead = harness.broker.peek_dead_letters(QUEUE, 10).await.unwrap();
        (!dead.is_empty()).then_some(dead)
    })
    .await;
    assert_eq!(dead[0].failure_kind.as_deref(), Some("rejected"));
    assert_eq!(rejecting.attempts_of(event.event_id).len(), 1);
    let vhost = harness.vhost.clone();
    harness.stop().await;

    // The bug is fixed: a new consumer handles the re-driven message.
    let fixed = Recorder::new(Behaviour::Succeed);
    let harness = Harness::start_on(vhost, fixed.clone()).await;
    let moved = harness
        .broker
        .redrive_dead_letters(QUEUE, Some(&event.event_id.to_string()))
        .await
        .unwrap();
    assert_eq!(moved, 1);
    eventually("the re-driven event handled", WAIT, || async {
        fixed.handled().contains(&event.event_id).then_some(())
    })
    .await;
    // Left in the DLQ: only the ERROR_DEAD_LETTER_QUEUED alarm, which this queue also
    // received (it is bound to the errors exchange) and the rejecting handler refused.
    let left = harness.broker.peek_dead_letters(QUEUE, 10).await.unwrap();
    let ids: Vec<Option<String>> = left.iter().map(|l| l.event_type.clone()).collect();
    assert_eq!(ids, [Some("ERROR_DEAD_LETTER_QUEUED".to_owned())]);
    harness.stop().await;
}

#[tokio::test]
async fn after_a_forced_close_publishing_and_consuming_resume_with_nothing_lost() {
    let recorder = Recorder::new(Behaviour::Succeed);
    let harness = Harness::start(recorder.clone()).await;
    let publisher = harness.broker.publisher();
    let before: Vec<Envelope> = (0..10).map(complaint_created).collect();
    publisher.publish_all(&before).await.unwrap();
    eventually("the first 10 events", WAIT, || async {
        (recorder.handled().len() >= 10).then_some(())
    })
    .await;

    harness.vhost.close_connections().await;

    // Publishing during the outage waits for the new connection instead of failing.
    let after: Vec<Envelope> = (10..20).map(complaint_created).collect();
    for event in &after {
        publisher.publish(event).await.unwrap();
    }
    eventually("all 20 events after the reconnect", WAIT, || async {
        (recorder.handled().len() >= 20).then_some(())
    })
    .await;
    let mut handled = recorder.handled();
    handled.sort();
    handled.dedup();
    assert_eq!(handled.len(), 20, "no event lost");
    assert!(harness.broker.is_ready());
    assert!(harness.vhost.connection_count().await >= 1, "reconnected");
    harness.stop().await;
}

#[tokio::test]
async fn publishes_in_flight_when_the_connection_is_forced_closed_all_succeed() {
    let recorder = Recorder::new(Behaviour::Succeed);
    let harness = Harness::start(recorder.clone()).await;
    let publisher = harness.broker.publisher();
    // One event at a time, back to back, from before the close until after the reconnect,
    // so that some are in flight when the close lands.
    let stop = CancellationToken::new();
    let publishing = tokio::spawn({
        let stop = stop.clone();
        async move {
            let mut published = Vec::new();
            for n in 0.. {
                if stop.is_cancelled() {
                    break;
                }
                let event = complaint_created(n);
                publisher.publish(&event).await?;
                published.push(event.event_id);
            }
            Ok::<_, shared::messaging::PublishError>(published)
        }
    });
    eventually("the first events", WAIT, || async {
        (recorder.handled().len() >= 20).then_some(())
    })
    .await;
    harness.vhost.close_connections().await;
    eventually("the reconnect", WAIT, || async {
        harness.broker.is_ready().then_some(())
    })
    .await;
    let before_stop = recorder.handled().len();
    eventually("events published after the reconnect", WAIT, || async {
        // A publish that failed ends the task: its error is shown below.
        let more = recorder.handled().len() >= before_stop + 20;
        (more || publishing.is_finished()).then_some(())
    })
    .await;
    stop.cancel();

    let mut published = publishing
        .await
        .unwrap()
        .expect("every publish succeeds across the forced close");
    published.sort();
    eventually("every published event handled", WAIT, || async {
        let mut handled = recorder.handled();
        handled.sort();
        handled.dedup();
        (handled == published).then_some(())
    })
    .await;
    harness.stop().await;
}

#[tokio::test]
async fn a_publish_to_a_missing_exchange_is_refused_at_once() {
    let harness = Harness::start(Recorder::new(Behaviour::Succeed)).await;
    let started = Instant::now();
    let error = harness
        .broker
        .publisher()
        .publish_to(
            "no-such-exchange",
            "complaint.created",
            &complaint_created(1),
            Default::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, shared::messaging::PublishError::Refused(_)),
        "{error}"
    );
    assert!(error.to_string().contains("no-such-exchange"), "{error}");
    // Not sent again and again until the publish timeout, as an interrupted publish would be.
    let timeout = harness.broker.settings().publish_timeout;
    assert!(started.elapsed() < timeout, "took {:?}", started.elapsed());
    harness.stop().await;
}

#[tokio::test]
async fn on_shutdown_the_message_in_hand_is_finished_and_acked() {
    let recorder = Recorder::new(Behaviour::Slow(Duration::from_millis(1500)));
    let harness = Harness::start(recorder.clone()).await;
    let event = complaint_created(1);
    harness.broker.publisher().publish(&event).await.unwrap();
    eventually("the handler to start", WAIT, || async {
        (!recorder.attempts_of(event.event_id).is_empty()).then_some(())
    })
    .await;

    let vhost = harness.vhost.clone();
    harness.stop().await;

    assert_eq!(
        recorder.handled(),
        vec![event.event_id],
        "finished before stopping"
    );
    // Nothing is left in the queue: it was acked, not returned.
    let queue = vhost
        .management_get(&format!("api/queues/{}/{}", vhost.name, QUEUE))
        .await;
    let again = Recorder::new(Behaviour::Succeed);
    let harness = Harness::start_on(vhost, again.clone()).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(again.handled().is_empty(), "no redelivery: {queue}");
    harness.stop().await;
}
