//! Saga metrics, with bounded labels (saga kind, outcome).

use super::model::{Saga, SagaKind};

/// `saga_executions_total{saga,outcome="started"}`.
pub fn started(kind: SagaKind) {
    metrics::counter!("saga_executions_total", "saga" => kind.as_str(), "outcome" => "started")
        .increment(1);
}

/// `saga_executions_total{saga,outcome}` and `saga_execution_duration_seconds{saga,outcome}`
/// when a saga ends (COMPLETED, FAILED, COMPENSATED).
pub fn finished(saga: &Saga) {
    let outcome = saga.status.as_str().to_ascii_lowercase();
    metrics::counter!("saga_executions_total", "saga" => saga.kind.as_str(), "outcome" => outcome.clone())
        .increment(1);
    let seconds = (saga.updated_at - saga.started_at)
        .num_milliseconds()
        .max(0) as f64
        / 1000.0;
    metrics::histogram!("saga_execution_duration_seconds", "saga" => saga.kind.as_str(), "outcome" => outcome)
        .record(seconds);
}

/// `saga_compensations_total{saga}`: the complaint was put back.
pub fn compensated(kind: SagaKind) {
    metrics::counter!("saga_compensations_total", "saga" => kind.as_str()).increment(1);
}

/// `saga_retries_total{saga,by}`: a saga resumed, by an operator or by the clock.
pub fn retried(kind: SagaKind, by: &'static str) {
    metrics::counter!("saga_retries_total", "saga" => kind.as_str(), "by" => by).increment(1);
}
