//! A publisher standing in for another service: it publishes on a test's vhost, with
//! publisher confirms, what that service would publish, so a test can feed the service
//! under test without starting the others.

use super::{broker, TestVhost, WAIT};
use crate::{
    event::Envelope,
    messaging::{properties, Broker, Topology},
};

pub struct StandIn {
    broker: Broker,
}

impl StandIn {
    /// Publishes as `service`: a service of the suite connects as its test user, with its
    /// production permissions ([`broker`]); any other name as the management user.
    pub async fn new(vhost: &TestVhost, service: &str) -> StandIn {
        let settings = broker(vhost, service);
        let topology = Topology::new(settings.retry.clone());
        Self::with_topology(vhost, service, topology).await
    }

    /// [`StandIn::new`], declaring `topology` first: with the queues of a service declared,
    /// what is published while that service is down waits for it.
    pub async fn with_topology(vhost: &TestVhost, service: &str, topology: Topology) -> StandIn {
        let broker = Broker::start(super::broker(vhost, service), topology);
        assert!(
            broker.wait_ready(WAIT).await,
            "the stand-in for {service} connects to RabbitMQ"
        );
        StandIn { broker }
    }

    /// Publishes `events` to their exchanges, in order, and waits for the broker's confirms.
    pub async fn publish(&self, events: &[Envelope]) {
        // Bounded batches: a whole backlog in one pipeline would hold every confirm at once.
        for chunk in events.chunks(1000) {
            self.broker
                .publisher()
                .publish_all(chunk)
                .await
                .expect("the broker confirms");
        }
    }

    pub async fn publish_one(&self, event: &Envelope) {
        self.publish(std::slice::from_ref(event)).await
    }

    /// Publishes to the exchange and routing key given (for types outside the catalogue,
    /// which have no exchange of their own).
    pub async fn publish_to(&self, exchange: &str, routing_key: &str, event: &Envelope) {
        self.broker
            .publisher()
            .publish_to(
                exchange,
                routing_key,
                event,
                properties::for_envelope(event),
            )
            .await
            .expect("the broker confirms");
    }

    pub fn broker(&self) -> &Broker {
        &self.broker
    }

    /// Closes the connection (a test that stops its stand-ins leaves no client behind).
    pub async fn close(&self) {
        self.broker.close().await
    }
}
