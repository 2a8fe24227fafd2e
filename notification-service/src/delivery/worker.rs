//! The delivery worker: woken by NOTIFY when notifications are created (and by a poll, and
//! when the next retry is due), it claims due notifications with `FOR UPDATE SKIP LOCKED`
//! (several instances share the work, none sends a row another holds), sends them a few at
//! a time, and records each outcome together with its NOTIFICATION_SENT / _FAILED event in
//! the outbox, in the same transaction.
//!
//! A crash between a send and the commit leaves the row pending: it is sent again
//! (at-least-once), which is the price of never losing a message.
//!
//! The mail server's circuit breaker ([`Circuit`]) is asked before each round: open, the
//! worker takes nothing and the notifications wait in the table, untouched (no attempt is
//! counted, none fails); half-open, it takes one as a probe. A transient failure that finds
//! the circuit open leaves its row as it was. The episode's edges are announced through the
//! outbox with the round that saw them.

use super::{
    breaker::Permit,
    circuit::Circuit,
    settings::DeliverySettings,
    transport::{AnyTransport, Mail, Transport},
    SendError,
};
use crate::{
    events,
    model::{Channel, Step},
    notification::Notification,
    retry::{self, FailureKind, Next},
    store::notifications as store,
    telemetry,
};
use chrono::{DateTime, Utc};
use futures_util::{stream, StreamExt};
use shared::lifecycle::{Background, Poller, Round, Worker};
use sqlx::PgPool;
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

pub struct DeliveryWorker {
    pool: PgPool,
    transport: Arc<AnyTransport>,
    circuit: Circuit,
    settings: DeliverySettings,
}

/// What one round did, for metrics once it is committed.
enum Outcome {
    Sent(Channel, Step),
    Retry(Channel),
    Failed(Channel, FailureKind),
    /// Not attempted for good: the circuit is open; the row waits as it was.
    Held,
}

impl DeliveryWorker {
    /// Starts delivering in the background until the service stops.
    pub fn spawn(
        pool: PgPool,
        transport: Arc<AnyTransport>,
        circuit: Circuit,
        settings: DeliverySettings,
        background: &Background,
    ) {
        if !settings.enabled {
            tracing::warn!("notification delivery is disabled by configuration");
            return;
        }
        telemetry::none_held_yet();
        let worker = DeliveryWorker {
            pool: pool.clone(),
            transport,
            circuit,
            settings,
        };
        Poller::new("notification delivery", pool, store::WAKE_CHANNEL_SQL)
            .spawn(worker, background);
    }

    /// How long to sleep: until the next retry is due, at most the poll interval. Also
    /// refreshes the pending gauge.
    async fn until_next_due(&self) -> Duration {
        match store::pending(&self.pool).await {
            Ok((count, next_due)) => {
                telemetry::pending(count);
                next_due.map_or(self.settings.poll_interval, |due| {
                    wait_until(due, Utc::now()).min(self.settings.poll_interval)
                })
            }
            Err(error) => {
                tracing::warn!(%error, "cannot count pending notifications");
                self.settings.poll_interval
            }
        }
    }

    /// Sends the notifications due now; returns how many it took.
    async fn deliver_round(&self, limit: i64) -> Result<usize, sqlx::Error> {
        // Sent notifications leave dead entries in the `notifications_due` index.
        let mut tx = shared::postgres::begin_queue_read(&self.pool).await?;
        let due = store::claim_due(&mut tx, limit).await?;
        if due.is_empty() {
            tx.commit().await?;
            return Ok(0);
        }
        // Collected first: a stream mapping borrowed rows to futures trips over
        // higher-ranked lifetimes in the spawned task.
        let sends: Vec<_> = due.iter().map(|n| self.attempt(n)).collect();
        let attempts: Vec<(Result<(), SendError>, Duration)> = stream::iter(sends)
            .buffered(self.settings.concurrency.max(1))
            .collect()
            .await;
        let now = Utc::now();
        let mut published = Vec::new();
        let mut sent = Vec::new();
        let mut outcomes = Vec::with_capacity(due.len());
        for (notification, (result, took)) in due.iter().zip(attempts) {
            let attempt = notification.attempts + 1;
            let channel = notification.channel;
            let transient = matches!(result, Err(SendError::Transient(_)));
            if let Some(change) = self.circuit.record(transient) {
                published.push(self.circuit.announce(&change, now));
            }
            if transient && self.circuit.is_open() {
                tracing::info!(notification_id = %notification.id, "mail server circuit open; the notification waits");
                telemetry::attempt(channel, "held", took);
                outcomes.push(Outcome::Held);
                continue;
            }
            match retry::after_attempt(&self.settings.retry, attempt, result, now) {
                Next::Sent => {
                    sent.push((notification.id, attempt));
                    let outcome = notification.outcome(attempt, None);
                    published.push(events::sent(&outcome, &notification.cause, now));
                    telemetry::attempt(channel, "sent", took);
                    outcomes.push(Outcome::Sent(channel, notification.step));
                }
                Next::RetryAt { at, error } => {
                    tracing::info!(notification_id = %notification.id, attempt, %at, %error, "delivery failed; will retry");
                    store::schedule_retry(&mut tx, notification.id, attempt, at, &error).await?;
                    telemetry::attempt(channel, "retry", took);
                    outcomes.push(Outcome::Retry(channel));
                }
                Next::Failed { kind, reason } => {
                    tracing::warn!(notification_id = %notification.id, attempt, %reason, "notification failed");
                    store::mark_failed(&mut tx, notification.id, attempt, &reason, now).await?;
                    let outcome = notification.outcome(attempt, Some(reason));
                    published.push(events::failed(&outcome, &notification.cause, now));
                    telemetry::attempt(channel, "failed", took);
                    outcomes.push(Outcome::Failed(channel, kind));
                }
            }
        }
        store::mark_sent(&mut tx, &sent, now).await?;
        shared::outbox::enqueue(&mut tx, &published).await?;
        tx.commit().await?;
        for outcome in outcomes {
            match outcome {
                Outcome::Sent(channel, step) => telemetry::sent(channel, step),
                Outcome::Retry(channel) => telemetry::retried(channel),
                Outcome::Failed(channel, kind) => telemetry::failed(channel, kind),
                Outcome::Held => telemetry::held(),
            }
        }
        Ok(due.len())
    }

    async fn attempt(&self, notification: &Notification) -> (Result<(), SendError>, Duration) {
        let mail = Mail {
            notification_id: notification.id,
            complaint_id: &notification.complaint_id,
            to_address: &notification.recipient,
            to_name: &notification.recipient_name,
            subject: &notification.subject,
            body: &notification.body,
        };
        let started = Instant::now();
        let result = self.transport.send(&mail).await;
        (result, started.elapsed())
    }
}

impl Worker for DeliveryWorker {
    type Error = sqlx::Error;

    async fn round(&mut self) -> Result<Round, sqlx::Error> {
        let limit = match self.circuit.permit() {
            Permit::Deliver => self.settings.batch_size,
            Permit::Probe => 1,
            Permit::Wait(pause) => return Ok(Round::Pause(pause)),
        };
        let count = self.deliver_round(limit).await?;
        Ok(if count as i64 >= limit && !self.circuit.is_open() {
            Round::Again // more are due
        } else {
            Round::WaitUpTo(self.until_next_due().await)
        })
    }
}

fn wait_until(due: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    (due - now).to_std().unwrap_or(Duration::ZERO)
}
