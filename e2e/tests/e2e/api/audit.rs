//! audit-service: one aggregate's trail, and the entries of one correlation id.

use crate::suite::Suite;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde::Deserialize;
use uuid::Uuid;

/// An entry of the trail.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub event_id: Uuid,
    pub event_type: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// When the trail recorded it.
    pub recorded_at: DateTime<Utc>,
    /// Whether the entry belongs to a compensated saga step.
    pub compensated: bool,
}

/// What a walk of the chain found.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    pub valid: bool,
    /// Where and why the chain is broken (`None` when it is intact).
    pub first_broken_at: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    entries: Vec<AuditEntry>,
    next_cursor: Option<String>,
}

impl Suite {
    /// Every entry of aggregate `id`'s trail, in the order things happened (empty if none).
    pub async fn trail(&self, id: &str) -> Vec<AuditEntry> {
        self.audit_pages(&format!("/api/audit/trail/{id}?limit=200"))
            .await
    }

    /// Every entry with this correlation id (latest first).
    pub async fn audited_with_correlation(&self, correlation_id: &str) -> Vec<AuditEntry> {
        self.audit_pages(&format!(
            "/api/audit/search?correlationId={correlation_id}&limit=200"
        ))
        .await
    }

    /// Every entry of `event_type` (latest first).
    pub async fn audited_of_type(&self, event_type: &str) -> Vec<AuditEntry> {
        self.audit_pages(&format!(
            "/api/audit/search?eventType={event_type}&limit=200"
        ))
        .await
    }

    /// `GET /api/audit/verify`: the walk of the whole hash chain.
    pub async fn verify_chain(&self) -> Verification {
        self.get(&self.audit, "/api/audit/verify")
            .await
            .expect_json("the chain's verification")
    }

    async fn audit_pages(&self, path: &str) -> Vec<AuditEntry> {
        let mut entries = Vec::new();
        let mut cursor = String::new();
        loop {
            let reply = self.get(&self.audit, &format!("{path}{cursor}")).await;
            if reply.status == StatusCode::NOT_FOUND && cursor.is_empty() {
                return entries;
            }
            let page: Page = reply.expect_json("a page of the audit trail");
            entries.extend(page.entries);
            match page.next_cursor {
                Some(next) => cursor = format!("&cursor={next}"),
                None => return entries,
            }
        }
    }
}
