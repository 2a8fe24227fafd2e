//! notification-service: a complaint's notification history, and the agent directory.

use crate::suite::{ReceivedMail, Suite, WAIT};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use shared::test_support::eventually;
use uuid::Uuid;

/// A notification of the history.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub id: Uuid,
    pub complaint_id: String,
    /// acknowledgement, assignment, escalation, status or compensation.
    pub step: String,
    /// complainant, assignee or supervisor.
    pub audience: String,
    pub recipient: String,
    /// PENDING, SENT, FAILED or CANCELLED.
    pub status: String,
    pub agent_id: Option<String>,
    pub triggering_event_id: Uuid,
    pub triggering_event_type: String,
    pub created_at: DateTime<Utc>,
    pub failure_reason: Option<String>,
    pub retracted_at: Option<DateTime<Utc>>,
}

impl Notification {
    pub fn is(&self, step: &str, audience: &str, status: &str) -> bool {
        self.step == step && self.audience == audience && self.status == status
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    items: Vec<Notification>,
    next_before: Option<Uuid>,
}

#[derive(Debug, Deserialize)]
struct AgentList {
    items: Vec<Agent>,
}

/// An entry of the agent directory.
#[derive(Debug, Clone, Deserialize)]
pub struct Agent {
    pub id: String,
    pub email: String,
    pub role: String,
    pub active: bool,
}

impl Suite {
    /// The notification history of a complaint (all pages), newest first.
    pub async fn notification_history(&self, complaint_id: &str) -> Vec<Notification> {
        self.notification_pages(&format!("complaintId={complaint_id}"))
            .await
    }

    /// The notifications of every complaint for saga `step` (all pages), newest first.
    pub async fn notifications_of_step(&self, step: &str) -> Vec<Notification> {
        self.notification_pages(&format!("step={step}")).await
    }

    async fn notification_pages(&self, filter: &str) -> Vec<Notification> {
        let mut items = Vec::new();
        let mut before = String::new();
        loop {
            let page: Page = self
                .get(
                    &self.notifications,
                    &format!("/api/notifications?{filter}&limit=500{before}"),
                )
                .await
                .expect_json("the notification history");
            items.extend(page.items);
            match page.next_before {
                Some(next) => before = format!("&before={next}"),
                None => return items,
            }
        }
    }

    /// Waits until the history of the complaint satisfies `predicate`; returns it.
    pub async fn history_when(
        &self,
        what: &str,
        complaint_id: &str,
        predicate: impl Fn(&[Notification]) -> bool,
    ) -> Vec<Notification> {
        let predicate = &predicate;
        eventually(what, WAIT, || async move {
            Some(self.notification_history(complaint_id).await).filter(|h| predicate(h))
        })
        .await
    }

    /// The agent directory (agents and supervisors).
    pub async fn agents(&self) -> Vec<Agent> {
        let list: AgentList = self
            .get(&self.notifications, "/api/agents")
            .await
            .expect_json("the agent directory");
        list.items
    }

    /// Waits until the SMTP server has received `count` messages for `address`.
    pub async fn mails_to(&self, address: &str, count: usize) -> Vec<ReceivedMail> {
        eventually(
            &format!("{count} mail(s) to {address}"),
            WAIT,
            || async move {
                let mails = self.smtp.received_by(address);
                (mails.len() >= count).then_some(mails)
            },
        )
        .await
    }
}
