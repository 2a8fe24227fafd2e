//! What one batch of saga events works on, held in memory between one read and one write.
//! The batch locks every saga its events touch in one statement, moves them in the events'
//! order, and writes the new and the changed ones back in one statement each; the SLA timers
//! it moves are written the same way. A batch of fifty events then costs a handful of round
//! trips instead of three per event, which is what lets the saga keeper keep up when the
//! machine is busy (issue 11).

use super::{model::Saga, model::SagaStatus, store};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

/// The sagas of one batch.
#[derive(Default)]
pub(super) struct WorkingSet {
    sagas: Vec<Entry>,
}

struct Entry {
    saga: Saga,
    /// Not stored yet: started by an event of this batch.
    new: bool,
    changed: bool,
}

/// Not every new saga could be stored: one for the same trigger appeared meanwhile.
#[derive(Debug, thiserror::Error)]
#[error("{expected} sagas started in this batch, but only {stored} could be stored")]
pub(super) struct Raced {
    expected: usize,
    stored: u64,
}

impl WorkingSet {
    /// Locks the stored sagas that answer `causes` (by trigger or compensation event).
    pub async fn lock(tx: &mut PgConnection, causes: &[Uuid]) -> Result<Self, sqlx::Error> {
        let sagas = store::lock_all(tx, causes).await?;
        Ok(WorkingSet {
            sagas: sagas
                .into_iter()
                .map(|saga| Entry {
                    saga,
                    new: false,
                    changed: false,
                })
                .collect(),
        })
    }

    /// The saga a reply to `cause` is for: the one `cause` started or the one it compensates.
    pub fn answering(&self, cause: Uuid) -> Option<&Saga> {
        self.sagas.iter().map(|entry| &entry.saga).find(|saga| {
            saga.trigger_event_id == cause || saga.compensation_event_id == Some(cause)
        })
    }

    /// The complaint's latest saga that started compensating and has not yet heard of the
    /// COMPLAINT_COMPENSATION_REQUIRED it asked for, among those held here.
    pub fn compensating(&self, complaint_id: &str) -> Option<&Saga> {
        self.sagas
            .iter()
            .map(|entry| &entry.saga)
            .filter(|saga| {
                saga.complaint_id == complaint_id
                    && saga.status == SagaStatus::Compensating
                    && saga.compensation_event_id.is_none()
            })
            .max_by_key(|saga| saga.started_at)
    }

    pub fn holds(&self, saga_id: Uuid) -> bool {
        self.sagas.iter().any(|entry| entry.saga.saga_id == saga_id)
    }

    /// A saga started by an event of this batch.
    pub fn start(&mut self, saga: Saga) {
        self.sagas.push(Entry {
            saga,
            new: true,
            changed: true,
        });
    }

    /// The new state of a saga, held here or read apart (and locked) by the caller.
    pub fn put(&mut self, saga: Saga) {
        match self
            .sagas
            .iter_mut()
            .find(|entry| entry.saga.saga_id == saga.saga_id)
        {
            Some(entry) => {
                entry.saga = saga;
                entry.changed = true;
            }
            None => self.sagas.push(Entry {
                saga,
                new: false,
                changed: true,
            }),
        }
    }

    /// Writes the new sagas and the changed ones.
    pub async fn save(&self, tx: &mut PgConnection) -> Result<Result<(), Raced>, sqlx::Error> {
        let new: Vec<&Saga> = self
            .sagas
            .iter()
            .filter(|e| e.new)
            .map(|e| &e.saga)
            .collect();
        let changed: Vec<&Saga> = self
            .sagas
            .iter()
            .filter(|e| e.changed && !e.new)
            .map(|e| &e.saga)
            .collect();
        let stored = store::insert_all(tx, &new).await?;
        if stored != new.len() as u64 {
            return Ok(Err(Raced {
                expected: new.len(),
                stored,
            }));
        }
        store::update_all(tx, &changed).await?;
        Ok(Ok(()))
    }
}

/// Where the batch leaves each complaint's SLA timer: the last move of each complaint wins.
#[derive(Default)]
pub(super) struct TimerMoves {
    /// `Some(deadline)`: armed at it; `None`: disarmed.
    last: HashMap<Uuid, Option<DateTime<Utc>>>,
}

impl TimerMoves {
    pub fn arm(&mut self, complaint_id: Uuid, deadline: DateTime<Utc>) {
        self.last.insert(complaint_id, Some(deadline));
    }

    pub fn disarm(&mut self, complaint_id: Uuid) {
        self.last.insert(complaint_id, None);
    }

    pub async fn save(&self, tx: &mut PgConnection) -> Result<(), sqlx::Error> {
        let armed: Vec<(Uuid, DateTime<Utc>)> = self
            .last
            .iter()
            .filter_map(|(id, deadline)| deadline.map(|d| (*id, d)))
            .collect();
        let disarmed: Vec<Uuid> = self
            .last
            .iter()
            .filter(|(_, deadline)| deadline.is_none())
            .map(|(id, _)| *id)
            .collect();
        store::arm_timers(tx, &armed).await?;
        store::disarm_timers(tx, &disarmed).await
    }
}
