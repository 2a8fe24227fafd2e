//! One notification as stored: a message to one recipient, with its delivery state.

use crate::{
    events::{Cause, NotificationOutcome},
    model::{Audience, Channel, NotificationStatus, Step},
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: Uuid,
    pub complaint_id: String,
    pub cause: Cause,
    pub step: Step,
    pub audience: Audience,
    pub agent_id: Option<String>,
    pub recipient: String,
    pub recipient_name: String,
    pub channel: Channel,
    pub subject: String,
    pub body: String,
    pub status: NotificationStatus,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub failure_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    pub retracted_at: Option<DateTime<Utc>>,
}

impl Notification {
    /// The data of its NOTIFICATION_SENT or NOTIFICATION_FAILED, after `attempts` attempts.
    pub fn outcome(&self, attempts: u32, reason: Option<String>) -> NotificationOutcome {
        NotificationOutcome {
            notification_id: self.id,
            complaint_id: self.complaint_id.clone(),
            step: self.step,
            audience: self.audience,
            recipient: self.recipient.clone(),
            channel: self.channel,
            triggering_event_id: self.cause.event_id,
            triggering_event_type: self.cause.event_type.clone(),
            reason,
            attempts,
            agent_id: self.agent_id.clone(),
        }
    }
}
