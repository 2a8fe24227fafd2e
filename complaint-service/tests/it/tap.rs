//! A queue of the test's own, bound to `complaints.events`, recording every message with the
//! routing key it came with.

use futures_util::StreamExt;
use lapin::Connection;
use shared::{event::Envelope, test_support::TestVhost};
use std::sync::{Arc, Mutex};

/// One message as it arrived.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub routing_key: String,
    pub envelope: Envelope,
}

pub struct EventTap {
    seen: Arc<Mutex<Vec<Delivered>>>,
    _connection: Connection,
}

impl EventTap {
    /// Binds an exclusive queue to `complaints.events` with `#`; the exchange must exist (an
    /// app on the vhost has declared its topology).
    pub async fn bind(vhost: &TestVhost) -> EventTap {
        Self::bind_to(vhost, "complaints.events").await
    }

    /// The same on another exchange (e.g. `saga.events`).
    pub async fn bind_to(vhost: &TestVhost, exchange: &str) -> EventTap {
        let (connection, mut consumer) = vhost.tap(exchange, "#", true).await;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        tokio::spawn(async move {
            while let Some(Ok(delivery)) = consumer.next().await {
                let envelope: Envelope =
                    serde_json::from_slice(&delivery.data).expect("an envelope");
                sink.lock().unwrap().push(Delivered {
                    routing_key: delivery.routing_key.as_str().to_owned(),
                    envelope,
                });
            }
        });
        EventTap {
            seen,
            _connection: connection,
        }
    }

    pub fn seen(&self) -> Vec<Delivered> {
        self.seen.lock().unwrap().clone()
    }
}
