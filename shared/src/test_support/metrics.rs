//! Reading a service's `/metrics` as numbers, not as text to search.
//!
//! A substring test such as `…} 1` also matches 10 to 19, and the metrics recorder is one per
//! process: under `cargo test` every test of a binary shares it, so a counter may already hold
//! other tests' counts. Tests therefore take a [`Scrape`] before acting and wait for each
//! series to grow by at least what they did ([`metrics_grown`]).

use super::eventually;
use std::{collections::HashMap, time::Duration};

/// One scrape of `/metrics`: every sample line, keyed by the series exactly as written
/// (`name{label="value",…}`), with its value.
#[derive(Debug, Clone, Default)]
pub struct Scrape {
    samples: HashMap<String, f64>,
}

impl Scrape {
    /// Parses the Prometheus text format. Comment lines and lines without a numeric value
    /// are skipped; a trailing timestamp is ignored.
    pub fn parse(text: &str) -> Self {
        let samples = text
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(sample)
            .collect();
        Self { samples }
    }

    /// Scrapes `{address}/metrics` once.
    pub async fn take(address: &str) -> Self {
        let url = format!("{address}/metrics");
        let text = reqwest::get(&url)
            .await
            .and_then(|response| response.error_for_status())
            .unwrap_or_else(|error| panic!("GET {url}: {error}"))
            .text()
            .await
            .expect("a metrics body");
        Self::parse(&text)
    }

    /// The value of one series (`name{labels}` exactly as the exporter writes it), 0 when the
    /// series has not been written yet, as for a counter that never moved.
    pub fn value(&self, series: &str) -> f64 {
        self.samples.get(series).copied().unwrap_or(0.0)
    }

    /// Whether `wanted` is present: a series written with its labels (`name{label="value"}`)
    /// must be there exactly; a bare name is a metric family, present with any labels or as a
    /// histogram or summary's `_bucket`, `_sum` and `_count` series.
    pub fn has(&self, wanted: &str) -> bool {
        if wanted.contains('{') {
            self.samples.contains_key(wanted)
        } else {
            self.has_family(wanted)
        }
    }

    fn has_family(&self, name: &str) -> bool {
        self.samples.keys().any(|series| {
            let base = series.split('{').next().unwrap_or(series);
            base == name
                || ["_bucket", "_sum", "_count"]
                    .iter()
                    .any(|suffix| base.strip_suffix(suffix) == Some(name))
        })
    }
}

fn sample(line: &str) -> Option<(String, f64)> {
    // The value follows the series; label values may hold spaces, so split after the `}`.
    let (series, rest) = match line.rfind('}') {
        Some(end) => (&line[..=end], &line[end + 1..]),
        None => line.split_once(' ')?,
    };
    let value = rest.split_whitespace().next()?.parse().ok()?;
    Some((series.trim().to_owned(), value))
}

/// Waits until every metric in `families` is present at `address` (see [`Scrape::has`]). Services record a
/// metric just after the effect a test can observe, so a scrape taken the moment the effect
/// shows may still precede it.
pub async fn metrics_with(address: &str, families: &[&str]) -> Scrape {
    let url = format!("{address}/metrics");
    eventually(
        &format!("{url} to show {families:?}"),
        Duration::from_secs(10),
        || async {
            let scrape = Scrape::take(address).await;
            families
                .iter()
                .all(|family| scrape.has(family))
                .then_some(scrape)
        },
    )
    .await
}

/// Waits until each `(series, by)` has grown by at least `by` since `before`, and returns the
/// scrape that shows it. "At least", because other tests in the same process may add to the
/// same series; a test that runs alone sees the exact growth.
pub async fn metrics_grown(address: &str, before: &Scrape, growth: &[(&str, f64)]) -> Scrape {
    let url = format!("{address}/metrics");
    eventually(
        &format!("{url} to grow by {growth:?} from {before:?}"),
        Duration::from_secs(10),
        || async {
            let scrape = Scrape::take(address).await;
            growth
                .iter()
                .all(|(series, by)| scrape.value(series) - before.value(series) >= *by)
                .then_some(scrape)
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# TYPE command_executions_total counter
command_executions_total{command=\"create\",outcome=\"success\"} 12
command_executions_total{command=\"assign\",outcome=\"success\"} 1
# TYPE projection_lag_seconds gauge
projection_lag_seconds 0.25
audit_events_recorded_total{event_type=\"A B\"} 3 1700000000000
event_store_batch_size_bucket{le=\"+Inf\"} 4
event_store_batch_size_sum 9
";

    #[test]
    fn values_are_read_by_exact_series_not_by_substring() {
        let scrape = Scrape::parse(TEXT);
        let create = "command_executions_total{command=\"create\",outcome=\"success\"}";
        assert_eq!(scrape.value(create), 12.0);
        assert_eq!(
            scrape.value("command_executions_total{command=\"assign\",outcome=\"success\"}"),
            1.0
        );
        assert_eq!(scrape.value("projection_lag_seconds"), 0.25);
        assert_eq!(scrape.value("never_written_total"), 0.0);
    }

    #[test]
    fn label_values_with_spaces_and_timestamps_are_read() {
        let scrape = Scrape::parse(TEXT);
        assert_eq!(
            scrape.value("audit_events_recorded_total{event_type=\"A B\"}"),
            3.0
        );
    }

    #[test]
    fn families_include_histogram_series_but_not_other_names_sharing_a_prefix() {
        let scrape = Scrape::parse(TEXT);
        assert!(scrape.has("event_store_batch_size"));
        assert!(scrape.has("command_executions_total"));
        assert!(!scrape.has("command_executions"));
        assert!(!scrape.has("projection_lag"));
        assert!(scrape.has("command_executions_total{command=\"assign\",outcome=\"success\"}"));
        assert!(!scrape.has("command_executions_total{command=\"close\",outcome=\"success\"}"));
    }
}
