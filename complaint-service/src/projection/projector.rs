//! The projector: a background task that applies new events to the read model, woken by the
//! event store's NOTIFY (and by this process's own commands) with a slow poll as a safety
//! net; and the operators' handle on the read model (its lag, and rebuilds: `rebuild`).

use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use std::{
    collections::BTreeSet,
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::sync::{watch, Notify};
use uuid::Uuid;

use super::rebuild::Rebuilt;
use crate::{
    config::ProjectionSettings,
    error::ServiceError,
    metrics,
    store::{
        self,
        events::CHANNEL_SQL,
        projection::{Checkpoint, Claim},
    },
};
use shared::{
    complaint::Complaint,
    lifecycle::{Background, Poller, Round, Worker},
};

/// While committed events are held back (an older appender is still running), look
/// again after this, doubling up to the poll interval.
const FIRST_RETRY: Duration = Duration::from_millis(20);
/// The lag gauges are measured at most this often: the measure is a query of its own, and
/// under load the projector runs hundreds of rounds a second.
const LAG_MEASURED_EVERY: Duration = Duration::from_secs(1);

/// How the command side wakes the projector and readers learn that it has advanced.
#[derive(Clone)]
pub struct ProjectionSignals {
    wake: Arc<Notify>,
    progress: Arc<watch::Sender<u64>>,
}

impl Default for ProjectionSignals {
    fn default() -> Self {
        Self {
            wake: Arc::new(Notify::new()),
            progress: Arc::new(watch::Sender::new(0)),
        }
    }
}

impl ProjectionSignals {
    /// New events were committed in this process: project them now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Changes each time the read model has advanced.
    pub fn progress(&self) -> watch::Receiver<u64> {
        self.progress.subscribe()
    }

    pub(super) fn advanced(&self) {
        self.progress.send_modify(|n| *n = n.wrapping_add(1));
    }
}

pub struct Projector {
    pool: PgPool,
    settings: ProjectionSettings,
    signals: ProjectionSignals,
    /// The next wait while events are held back.
    retry: Duration,
    lag_measured_at: Option<Instant>,
}

impl Projector {
    /// Starts projecting in the background until the service stops.
    pub fn spawn(
        pool: PgPool,
        settings: ProjectionSettings,
        signals: ProjectionSignals,
        background: &Background,
    ) {
        let (enabled, gather, wake) = (settings.enabled, settings.gather, signals.wake.clone());
        let projector = Projector {
            pool: pool.clone(),
            settings,
            signals,
            retry: FIRST_RETRY,
            lag_measured_at: None,
        };
        Poller::new("projector", pool, CHANNEL_SQL)
            .enabled(enabled)
            .also_woken_by(wake)
            .gathering(gather)
            .spawn(projector, background);
    }

    /// Applies batches until none is full; `true` if events may be held back behind an
    /// appender still running (whose commit wakes the projector, but a rollback does not).
    async fn catch_up(&mut self) -> Result<bool, sqlx::Error> {
        let mut held_back = false;
        while let Some(batch) = self.project_batch().await? {
            held_back = batch.held_back;
            if (batch.read as i64) < self.settings.batch_size {
                break;
            }
        }
        self.measure_lag().await?;
        Ok(held_back)
    }

    /// One batch in one transaction; `None` if another instance is projecting.
    async fn project_batch(&self) -> Result<Option<Progress>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let Some(claim) = store::projection::claim(&mut tx, false).await? else {
            return Ok(None);
        };
        let batch = apply_next_batch(&mut tx, claim, self.settings.batch_size).await?;
        tx.commit().await?;
        if batch.read > 0 {
            self.signals.advanced();
        }
        Ok(Some(batch))
    }

    async fn measure_lag(&mut self) -> Result<(), sqlx::Error> {
        if self
            .lag_measured_at
            .is_some_and(|at| at.elapsed() < LAG_MEASURED_EVERY)
        {
            return Ok(());
        }
        let lag = store::projection::lag(&self.pool).await?;
        metrics::projection_lag(&lag, chrono::Utc::now());
        self.lag_measured_at = Some(Instant::now());
        Ok(())
    }
}

impl Worker for Projector {
    type Error = sqlx::Error;

    async fn round(&mut self) -> Result<Round, sqlx::Error> {
        if self.catch_up().await? {
            let wait = self.retry;
            self.retry = (self.retry * 2).min(self.settings.poll_interval);
            Ok(Round::WaitUpTo(wait))
        } else {
            self.retry = FIRST_RETRY;
            Ok(Round::WaitUpTo(self.settings.poll_interval))
        }
    }
}

/// What one batch did.
struct Progress {
    /// Events read (and applied, but for undecodable ones).
    read: usize,
    /// The batch stopped below an appender still running.
    held_back: bool,
}

/// Applies the next events after the claimed checkpoint and moves it: four round trips with
/// the claim, whatever the batch holds (claim, events, views, writes).
async fn apply_next_batch(
    conn: &mut PgConnection,
    Claim {
        checkpoint,
        horizon,
    }: Claim,
    batch_size: i64,
) -> Result<Progress, sqlx::Error> {
    let events =
        store::projection::events_after(conn, checkpoint, horizon.transaction_id, batch_size)
            .await?;
    let held_back = horizon.held_by_appender;
    let Some(last) = events.last() else {
        return Ok(Progress { read: 0, held_back });
    };
    let next = Checkpoint {
        transaction_id: last.transaction_id,
        position: last.position,
    };
    let ids: Vec<Uuid> = events
        .iter()
        .map(|e| e.complaint_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut views = store::projection::load_views(conn, &ids).await?;
    let applied = super::apply(&mut views, &events);
    for (event_id, reason) in &applied.undecodable {
        tracing::error!(%event_id, %reason, "event cannot be projected; skipped");
        metrics::undecodable_event();
    }
    let changed: Vec<&Complaint> = applied
        .changed
        .iter()
        .filter_map(|id| views.get(id))
        .collect();
    store::projection::save_batch(conn, &changed, &applied.timeline, next).await?;
    metrics::projected(applied.timeline.len());
    Ok(Progress {
        read: events.len(),
        held_back,
    })
}

/// Operators' handle on the read model: its lag, and rebuilds.
#[derive(Clone)]
pub struct Projections {
    pool: PgPool,
    signals: ProjectionSignals,
}

/// How far the read model is behind the event store.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProjectionStatus {
    /// The position of the last event applied.
    pub checkpoint_position: i64,
    /// The highest position in the event store.
    pub last_position: i64,
    /// Events recorded but not applied yet (counted up to 100,000).
    pub pending_events: i64,
    /// How long ago the oldest of those was recorded.
    pub seconds_behind: f64,
}

impl Projections {
    pub fn new(pool: PgPool, signals: ProjectionSignals) -> Self {
        Self { pool, signals }
    }

    pub async fn rebuild(&self) -> Result<Rebuilt, ServiceError> {
        Ok(super::rebuild::rebuild(&self.pool, &self.signals).await?)
    }

    pub async fn status(&self) -> Result<ProjectionStatus, ServiceError> {
        let lag = store::projection::lag(&self.pool).await?;
        let now = chrono::Utc::now();
        metrics::projection_lag(&lag, now);
        Ok(ProjectionStatus {
            checkpoint_position: lag.checkpoint.position,
            last_position: lag.last_position,
            pending_events: lag.pending_events,
            seconds_behind: lag.oldest_pending_at.map_or(0.0, |at| {
                (now - at).num_milliseconds().max(0) as f64 / 1000.0
            }),
        })
    }
}
