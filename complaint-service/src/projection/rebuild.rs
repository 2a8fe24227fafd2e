//! The rebuild: every committed event replayed into a new read model, swapped in at the end.
//!
//! Two connections work at once. The reader holds the rebuild's transaction (the claim of
//! the projection's checkpoint row, the event reads, the swap and the checkpoint); it folds
//! each batch in memory and hands what to write to the writer, whose own transaction fills
//! the new tables (`store::shadow`) while the reader reads and folds the next batch. The
//! writer commits the filled, indexed tables just before the reader swaps them in and
//! commits: readers of the read model see the old one until then, and running projectors
//! skip their rounds while the rebuild holds the claim. A rebuild that fails leaves at most
//! an unused schema of new tables, which the next one drops.
//!
//! Views stay in memory between batches, so most are written once instead of once per batch
//! that touches them; those not touched for a few batches are written out once there are
//! more than [`VIEWS_IN_MEMORY`], and read back should their complaint come again.

use serde::Serialize;
use shared::complaint::Complaint;
use sqlx::{PgPool, Postgres, Transaction};
use std::{
    collections::{BTreeSet, HashMap, HashSet},
    time::Instant,
};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::{projector::ProjectionSignals, ProjectedEntry, RecordedEvent};
use crate::{
    metrics,
    store::{
        self,
        projection::Checkpoint,
        shadow::{self, Shadow},
    },
};

/// How a rebuild portions its work; the defaults suit production, tests use tiny ones to
/// take every path.
#[derive(Debug, Clone, Copy)]
pub struct Portions {
    /// Events read per statement.
    pub batch: i64,
    /// See [`VIEWS_IN_MEMORY`].
    pub views_in_memory: usize,
}

impl Default for Portions {
    fn default() -> Self {
        Self {
            batch: 2_000,
            views_in_memory: VIEWS_IN_MEMORY,
        }
    }
}

/// Views held in memory above which those not touched lately are written out (about 1 kB
/// each). Writing them while the replay goes on overlaps it with the reading; a complaint's
/// events mostly come close together, so few come back.
const VIEWS_IN_MEMORY: usize = 20_000;
/// "Lately": within this many batches.
const RECENT_BATCHES: u64 = 3;
/// Views written per statement.
const VIEWS_PER_WRITE: usize = 2_000;
/// Batches handed to the writer and not yet written: enough to keep both sides busy.
const WRITES_AHEAD: usize = 2;

/// What a rebuild did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Rebuilt {
    /// Events replayed.
    pub events: usize,
    /// Complaints in the rebuilt read model.
    pub complaints: i64,
    pub duration_ms: u64,
}

/// Replays every committed event into a new read model and swaps it in.
pub async fn rebuild(pool: &PgPool, signals: &ProjectionSignals) -> Result<Rebuilt, sqlx::Error> {
    rebuild_in(pool, signals, Portions::default()).await
}

/// [`rebuild`], in the given portions.
pub async fn rebuild_in(
    pool: &PgPool,
    signals: &ProjectionSignals,
    portions: Portions,
) -> Result<Rebuilt, sqlx::Error> {
    let started = Instant::now();
    let mut tx = pool.begin().await?;
    // Events committed after the horizon are left to the projector, which resumes from the
    // checkpoint once the rebuild commits.
    let horizon = store::projection::claim(&mut tx, true)
        .await?
        .ok_or_else(|| sqlx::Error::Protocol("the projection has no checkpoint row".into()))?
        .horizon
        .transaction_id;
    let mut writer = pool.begin().await?;
    let new_tables = shadow::open(&mut writer).await?;
    let (writes, inbox) = mpsc::channel(WRITES_AHEAD);
    let writing = tokio::spawn(write(writer, new_tables, inbox));
    let mut replay = Replay {
        views: HashMap::new(),
        touched: HashMap::new(),
        batches: 0,
        written: HashSet::new(),
        checkpoint: Checkpoint::default(),
        events: 0,
        portions,
        writes,
        writer_lost: false,
    };
    let replayed = replay.run(&mut tx, horizon).await;
    let Replay {
        checkpoint,
        events,
        written,
        writer_lost,
        ..
    } = replay;
    let wrote = writing
        .await
        .map_err(|e| sqlx::Error::Protocol(format!("the rebuild's writer panicked: {e}")))?;
    let new_tables = match (replayed, wrote) {
        (Ok(()), Ok(new_tables)) => new_tables,
        // The writer stopped first: its error is the cause, the reader's only says so.
        (Err(_), Err(error)) if writer_lost => return Err(error),
        (Err(error), _) | (Ok(()), Err(error)) => return Err(error),
    };
    new_tables.swap_in(&mut tx).await?;
    store::projection::save_checkpoint(&mut tx, checkpoint).await?;
    tx.commit().await?;
    signals.advanced();
    signals.wake();
    let rebuilt = Rebuilt {
        events,
        complaints: i64::try_from(written.len()).unwrap_or(i64::MAX),
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    tracing::info!(?rebuilt, "read model rebuilt");
    Ok(rebuilt)
}

/// What the reader asks of the writer, in order.
enum Write {
    Timeline(Vec<ProjectedEntry>),
    Views(Vec<Complaint>),
    /// Views written out earlier, wanted back (only the writer's transaction sees them).
    Load(
        Vec<Uuid>,
        oneshot::Sender<Result<HashMap<Uuid, Complaint>, sqlx::Error>>,
    ),
    /// Every event is replayed: index the new tables and commit them.
    Finish,
}

/// The writer: fills the new tables, and commits them once told the replay is complete
/// (a reader that stops before drops the channel, and the writer rolls back).
async fn write(
    mut tx: Transaction<'static, Postgres>,
    new_tables: Shadow,
    mut inbox: mpsc::Receiver<Write>,
) -> Result<Shadow, sqlx::Error> {
    while let Some(write) = inbox.recv().await {
        match write {
            Write::Timeline(entries) => {
                store::projection::insert_timeline(&mut tx, &entries).await?;
            }
            Write::Views(views) => {
                let views: Vec<&Complaint> = views.iter().collect();
                store::projection::save_views(&mut tx, &views).await?;
            }
            Write::Load(ids, answer) => {
                // The reader may have stopped waiting; then nothing needs the answer.
                let _ = answer.send(store::projection::load_views(&mut tx, &ids).await);
            }
            Write::Finish => {
                new_tables.index(&mut tx).await?;
                tx.commit().await?;
                return Ok(new_tables);
            }
        }
    }
    Err(sqlx::Error::Protocol(
        "the rebuild stopped before the end of the events".to_owned(),
    ))
}

/// The reader's side of a rebuild in progress.
struct Replay {
    views: HashMap<Uuid, Complaint>,
    /// The batch that last changed each view in memory.
    touched: HashMap<Uuid, u64>,
    /// Batches applied.
    batches: u64,
    /// Complaints whose view was written out of memory.
    written: HashSet<Uuid>,
    checkpoint: Checkpoint,
    events: usize,
    portions: Portions,
    writes: mpsc::Sender<Write>,
    /// The writer stopped (with an error of its own) before the reader was done.
    writer_lost: bool,
}

impl Replay {
    /// Reads and folds every event below `horizon`, then tells the writer to finish.
    async fn run(
        &mut self,
        tx: &mut Transaction<'static, Postgres>,
        horizon: i64,
    ) -> Result<(), sqlx::Error> {
        loop {
            let batch =
                store::projection::events_after(tx, self.checkpoint, horizon, self.portions.batch)
                    .await?;
            self.apply(&batch).await?;
            if (batch.len() as i64) < self.portions.batch {
                break;
            }
        }
        let all = self.views.keys().copied().collect();
        self.flush(all).await?;
        self.send(Write::Finish).await
    }

    async fn apply(&mut self, events: &[RecordedEvent]) -> Result<(), sqlx::Error> {
        let Some(last) = events.last() else {
            return Ok(());
        };
        let missing: Vec<Uuid> = events
            .iter()
            .map(|e| e.complaint_id)
            .filter(|id| self.written.contains(id) && !self.views.contains_key(id))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if !missing.is_empty() {
            let (answer, loaded) = oneshot::channel();
            self.send(Write::Load(missing, answer)).await?;
            let Ok(loaded) = loaded.await else {
                return Err(self.lost());
            };
            let loaded = loaded?;
            self.views.extend(loaded);
        }
        let applied = super::apply(&mut self.views, events);
        self.batches += 1;
        for id in &applied.changed {
            self.touched.insert(*id, self.batches);
        }
        for (event_id, reason) in &applied.undecodable {
            tracing::error!(%event_id, %reason, "event cannot be projected; skipped");
            metrics::undecodable_event();
        }
        self.send(Write::Timeline(applied.timeline)).await?;
        self.checkpoint = Checkpoint {
            transaction_id: last.transaction_id,
            position: last.position,
        };
        self.events += events.len();
        if self.views.len() > self.portions.views_in_memory {
            let recent = self.batches.saturating_sub(RECENT_BATCHES);
            let stale: Vec<Uuid> = self
                .views
                .keys()
                .filter(|id| self.touched.get(id).is_none_or(|&batch| batch <= recent))
                .copied()
                .collect();
            self.flush(stale).await?;
        }
        Ok(())
    }

    /// Hands the views of `ids` held in memory to the writer.
    async fn flush(&mut self, ids: Vec<Uuid>) -> Result<(), sqlx::Error> {
        let mut views: Vec<Complaint> = Vec::with_capacity(VIEWS_PER_WRITE);
        for id in ids {
            let Some(view) = self.views.remove(&id) else {
                continue;
            };
            self.touched.remove(&id);
            self.written.insert(id);
            views.push(view);
            if views.len() == VIEWS_PER_WRITE {
                self.send(Write::Views(std::mem::take(&mut views))).await?;
            }
        }
        if !views.is_empty() {
            self.send(Write::Views(views)).await?;
        }
        Ok(())
    }

    async fn send(&mut self, write: Write) -> Result<(), sqlx::Error> {
        if self.writes.send(write).await.is_err() {
            return Err(self.lost());
        }
        Ok(())
    }

    fn lost(&mut self) -> sqlx::Error {
        self.writer_lost = true;
        sqlx::Error::Protocol("the rebuild's writer stopped".to_owned())
    }
}
