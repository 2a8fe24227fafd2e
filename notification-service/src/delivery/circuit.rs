//! The mail server's circuit breaker as the service shares it: the delivery worker asks it
//! and feeds it, `/ready` and `/metrics` show its state, and its episodes become
//! MONITORING_CIRCUIT_OPENED / _CLOSED events.

use super::breaker::{BreakerSettings, Change, CircuitBreaker, Permit, State};
use crate::config::SERVICE;
use chrono::{DateTime, Utc};
use shared::event::{monitoring::CircuitChanged, Envelope, EventType, Metadata};
use std::{
    sync::{Arc, Mutex},
    time::Instant,
};

#[derive(Clone)]
pub struct Circuit {
    /// What it guards: the transport's name (`smtp`).
    name: &'static str,
    breaker: Arc<Mutex<CircuitBreaker>>,
}

impl Circuit {
    pub fn new(name: &'static str, settings: BreakerSettings) -> Self {
        let circuit = Self {
            name,
            breaker: Arc::new(Mutex::new(CircuitBreaker::new(settings))),
        };
        metrics::counter!("circuit_opened_total", "circuit" => name).increment(0);
        circuit.show(State::Closed);
        circuit
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn permit(&self) -> Permit {
        let mut breaker = self.lock();
        let permit = breaker.permit(Instant::now());
        self.show(breaker.state());
        permit
    }

    /// Records a delivery's outcome (`failed`: a transient failure); returns an episode's edge.
    pub fn record(&self, failed: bool) -> Option<Change> {
        let mut breaker = self.lock();
        let change = breaker.record(failed, Instant::now());
        self.show(breaker.state());
        match &change {
            Some(Change::Opened { reason }) => {
                metrics::counter!("circuit_opened_total", "circuit" => self.name).increment(1);
                tracing::warn!(circuit = self.name, %reason, "circuit opened: deliveries wait");
            }
            Some(Change::Closed { after }) => {
                tracing::info!(
                    circuit = self.name,
                    ?after,
                    "circuit closed: delivering again"
                );
            }
            None => {}
        }
        change
    }

    pub fn state(&self) -> State {
        self.lock().state()
    }

    /// Whether deliveries are being held back.
    pub fn is_open(&self) -> bool {
        self.state() != State::Closed
    }

    /// The event announcing `change`.
    pub fn announce(&self, change: &Change, now: DateTime<Utc>) -> Envelope {
        let (event_type, state, detail) = match change {
            Change::Opened { reason } => {
                (EventType::MonitoringCircuitOpened, "OPEN", reason.clone())
            }
            Change::Closed { after } => (
                EventType::MonitoringCircuitClosed,
                "CLOSED",
                format!("closed after {} s open", after.as_secs()),
            ),
        };
        let data = CircuitChanged {
            service: SERVICE.to_owned(),
            circuit: self.name.to_owned(),
            state: state.to_owned(),
            detail,
        };
        Envelope::new(
            event_type,
            format!("{SERVICE}/{}", self.name),
            "Circuit",
            serde_json::to_value(data).unwrap_or_default(),
            Metadata::new(SERVICE, uuid::Uuid::now_v7().to_string(), now),
        )
    }

    fn show(&self, state: State) {
        metrics::gauge!("circuit_state", "circuit" => self.name).set(state.level());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CircuitBreaker> {
        self.breaker.lock().unwrap_or_else(|e| e.into_inner())
    }
}
