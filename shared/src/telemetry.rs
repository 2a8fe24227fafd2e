//! JSON logs and the Prometheus recorder, installed once per process.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use tracing_subscriber::{fmt, EnvFilter};

/// JSON log lines on stdout, filtered by `level` (an `EnvFilter` directive such as `info` or
/// `complaint_service=debug,info`). Every line carries the fields of its spans, so a request's
/// correlation id appears on every line logged while serving it. Safe to call twice (tests).
pub fn init_logging(level: &str) {
    let filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(true)
        .try_init();
}

static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process-wide Prometheus recorder; the first call installs it.
pub fn metrics() -> PrometheusHandle {
    RECORDER
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                    30.0, 60.0,
                ])
                .expect("the bucket list is not empty")
                // Sizes, not seconds: how many events one write took.
                .set_buckets_for_metric(
                    Matcher::Suffix("batch_size".to_owned()),
                    &[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0],
                )
                .expect("the bucket list is not empty");
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (a test binary that built one first);
            // then this handle renders nothing but the service still works.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}
