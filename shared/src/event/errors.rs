//! The payload every `ERROR_*` event carries: what kind of failure it was, how severe that is,
//! which service raised it, whether trying again can help, and the ids of the failing message.
//! Severity is not chosen by the raiser: it follows from the kind ([`ErrorKind::severity`]),
//! as in seed 000 (validation LOW, transient or timeout MEDIUM, infrastructure HIGH, saga or
//! compensation CRITICAL), so the same failure is always graded the same way.

use serde::{Deserialize, Serialize};

crate::wire_enum!(
    /// How urgent a failure is; alert rules and dashboards are keyed on it.
    Severity, "SCREAMING_SNAKE_CASE" {
        Low => "LOW",
        Medium => "MEDIUM",
        High => "HIGH",
        Critical => "CRITICAL",
    }
);

crate::wire_enum!(
    /// What failed.
    ErrorKind, "SCREAMING_SNAKE_CASE" {
        /// The message itself is wrong (undecodable, refused by the domain): it will never
        /// succeed.
        Validation => "VALIDATION",
        /// A peer refused or failed for now; trying again may succeed.
        Transient => "TRANSIENT",
        /// A peer did not answer in time.
        Timeout => "TIMEOUT",
        /// A dependency (database, broker, mail server) stayed down through every retry.
        Infrastructure => "INFRASTRUCTURE",
        /// A saga could not finish and needs a person.
        Saga => "SAGA",
        /// Undoing a step failed: the system may be inconsistent until someone acts.
        Compensation => "COMPENSATION",
    }
);

impl ErrorKind {
    /// The severity of this kind of failure (seed 000).
    pub const fn severity(self) -> Severity {
        match self {
            Self::Validation => Severity::Low,
            Self::Transient | Self::Timeout => Severity::Medium,
            Self::Infrastructure => Severity::High,
            Self::Saga | Self::Compensation => Severity::Critical,
        }
    }

    /// Whether the same message may succeed if tried again as it is.
    pub const fn retryable(self) -> bool {
        matches!(self, Self::Transient | Self::Timeout | Self::Infrastructure)
    }

    /// The kind of a consumer's dead letter, from its `x-failure-kind`: an undecodable or
    /// rejected message is invalid; one whose retries ran out met a dependency that stayed down.
    pub fn of_dead_letter(failure_kind: &str) -> ErrorKind {
        match failure_kind {
            "undecodable" | "rejected" => Self::Validation,
            _ => Self::Infrastructure,
        }
    }
}

/// The ids of the message whose handling failed (whatever is known of them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailingMessage {
    /// The AMQP message id (the event id for events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
}

/// The `eventData` of every `ERROR_*` event: the classification, then the details of the
/// particular error (`D`, flattened beside it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorReport<D> {
    pub severity: Severity,
    pub kind: ErrorKind,
    /// The service that met the failure.
    pub service: String,
    pub retryable: bool,
    pub failing_message: FailingMessage,
    #[serde(flatten)]
    pub detail: D,
}

impl<D: Serialize> ErrorReport<D> {
    /// A report of `kind`, graded and marked retryable from the kind alone.
    pub fn new(kind: ErrorKind, service: &str, failing_message: FailingMessage, detail: D) -> Self {
        Self {
            severity: kind.severity(),
            kind,
            service: service.to_owned(),
            retryable: kind.retryable(),
            failing_message,
            detail,
        }
    }

    /// The `eventData` JSON.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_else(|error| {
            // Only plain structs are reported, so this cannot fail; never lose the grading.
            serde_json::json!({ "severity": self.severity, "kind": self.kind,
                "service": self.service, "retryable": self.retryable,
                "encodingError": error.to_string() })
        })
    }
}

/// Just the classification, to read any `ERROR_*` event without knowing its details.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Classification {
    pub severity: Severity,
    pub kind: ErrorKind,
    pub service: String,
}

/// ERROR_DEAD_LETTER_QUEUED's details: where the message now waits and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterQueued {
    pub queue: String,
    pub dead_letter_queue: String,
    /// `undecodable`, `rejected` or `retries-exhausted`.
    pub failure_kind: String,
    pub reason: String,
    pub attempts: u32,
}

/// ERROR_MANUAL_INTERVENTION_REQUIRED's details: the saga that failed and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManualInterventionRequired {
    pub saga_id: String,
    pub saga_type: String,
    pub complaint_id: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Counts one raised error in `errors_total{severity,kind,service}`.
pub fn count_raised(severity: Severity, kind: ErrorKind, service: &str) {
    metrics::counter!("errors_total",
        "severity" => severity.as_str(), "kind" => kind.as_str(), "service" => service.to_owned())
    .increment(1);
}

/// Makes every `errors_total` series of `service` exist at zero, so an alert on `increase()`
/// sees the first error of a series.
pub fn register_counters(service: &str) {
    for kind in ErrorKind::ALL {
        metrics::counter!("errors_total",
            "severity" => kind.severity().as_str(), "kind" => kind.as_str(), "service" => service.to_owned())
        .increment(0);
    }
}

/// Counts the error events among `events` (as published by an outbox relay): those of the
/// errors domain that carry a classification.
pub fn count_published(events: &[super::Envelope]) {
    for event in events {
        if event.exchange() != Some(super::exchanges::ERRORS) {
            continue;
        }
        if let Ok(c) = serde_json::from_value::<Classification>(event.event_data.clone()) {
            count_raised(c.severity, c.kind, &c.service);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn severity_follows_the_kind_of_failure() {
        assert_eq!(ErrorKind::Validation.severity(), Severity::Low);
        assert_eq!(ErrorKind::Transient.severity(), Severity::Medium);
        assert_eq!(ErrorKind::Timeout.severity(), Severity::Medium);
        assert_eq!(ErrorKind::Infrastructure.severity(), Severity::High);
        assert_eq!(ErrorKind::Saga.severity(), Severity::Critical);
        assert_eq!(ErrorKind::Compensation.severity(), Severity::Critical);
    }

    #[test]
    fn dead_letters_are_invalid_messages_or_dependencies_that_stayed_down() {
        assert_eq!(
            ErrorKind::of_dead_letter("undecodable"),
            ErrorKind::Validation
        );
        assert_eq!(ErrorKind::of_dead_letter("rejected"), ErrorKind::Validation);
        assert_eq!(
            ErrorKind::of_dead_letter("retries-exhausted"),
            ErrorKind::Infrastructure
        );
    }

    #[test]
    fn a_report_is_flat_json_with_its_classification() {
        let report = ErrorReport::new(
            ErrorKind::Saga,
            "complaint-service",
            FailingMessage {
                event_id: Some("e-1".into()),
                ..FailingMessage::default()
            },
            ManualInterventionRequired {
                saga_id: "s-1".into(),
                saga_type: "ASSIGNMENT".into(),
                complaint_id: "c-1".into(),
                status: "FAILED".into(),
                step: Some("notify-assignee".into()),
                reason: None,
            },
        );
        let value = report.to_value();
        assert_eq!(value["severity"], "CRITICAL");
        assert_eq!(value["kind"], "SAGA");
        assert_eq!(value["retryable"], false);
        assert_eq!(value["service"], "complaint-service");
        assert_eq!(value["failingMessage"], json!({ "eventId": "e-1" }));
        assert_eq!(value["sagaId"], "s-1");
        assert!(value.get("reason").is_none());
        let back: ErrorReport<ManualInterventionRequired> = serde_json::from_value(value).unwrap();
        assert_eq!(back, report);
    }

    #[test]
    fn the_classification_reads_from_any_error_payload() {
        let value = json!({ "severity": "LOW", "kind": "VALIDATION", "service": "s",
            "retryable": false, "failingMessage": {}, "queue": "q" });
        let c: Classification = serde_json::from_value(value).unwrap();
        assert_eq!(c.severity, Severity::Low);
        assert!(serde_json::from_value::<Classification>(json!({ "queue": "q" })).is_err());
    }
}
