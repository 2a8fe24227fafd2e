//! The events complaint-service reacts to: the saga keeper's queue (see [`crate::saga`]),
//! plus the saga clocks (SLA timers, step timeouts); and the command messages of
//! `complaints.commands` ([`crate::command_messages`]). The app wires whatever this module lists,
//! so adding a consumer touches this file only:
//!
//! 1. a [`QueueSpec`] in [`queues`] (`complaint-service.<purpose>`, bound to the event types
//!    it needs; it gets its DLQ and delay queues from the shared topology);
//! 2. a [`shared::messaging::Handler`] spawned in [`spawn`] for that queue. A handler that
//!    changes a complaint builds its command and runs it with
//!    [`CommandService::execute_once`] and [`CommandContext::caused_by`]: the command, its
//!    events, their outbox rows and the inbox entry commit in one transaction, so a
//!    redelivered event does nothing and the new events carry the cause's correlation id.
//!    A domain refusal is final (`HandlerError::Permanent`, or `Ok` if it means "already
//!    done"); a database failure, or a version conflict with a concurrent command, is
//!    `HandlerError::Transient` (the next try reads the newer version).
//!
//! [`CommandContext::caused_by`]: crate::commands::CommandContext::caused_by

use std::sync::Arc;

use shared::{
    lifecycle::Background,
    messaging::{Broker, QueueSpec},
};

use sqlx::PgPool;

use crate::{
    command_messages::{self, CommandDesk},
    commands::CommandService,
    config::SagaSettings,
    saga::{self, consumer::SagaKeeper, timers::Clocks},
};

/// The work queues of this service. The saga keeper's queue is split into the broker's
/// partitions by complaint; the command queue is not: its messages come from clients, which
/// set no aggregate id header for a partition exchange to hash, so it keeps one queue with a
/// single active consumer (ARCHITECTURE.md, "Scaling").
pub fn queues() -> Vec<QueueSpec> {
    vec![
        saga::consumer::queue(),
        command_messages::queue().unpartitioned(),
    ]
}

/// What handlers may use.
#[derive(Clone)]
pub struct Consumers {
    pub commands: Arc<CommandService>,
    pub pool: PgPool,
    pub sagas: SagaSettings,
}

impl Consumers {
    /// Starts a consumer on each queue of [`queues`].
    pub fn spawn(&self, broker: &Broker, background: &Background) {
        let keeper = SagaKeeper {
            pool: self.pool.clone(),
            commands: self.commands.clone(),
            step_timeout: self.sagas.step_timeout(),
        };
        broker.spawn_consumer(
            saga::consumer::QUEUE,
            keeper,
            &background.tracker,
            background.shutdown.clone(),
        );
        broker.spawn_message_consumer(
            command_messages::QUEUE,
            CommandDesk {
                pool: self.pool.clone(),
                commands: self.commands.clone(),
                publisher: broker.publisher(),
            },
            &background.tracker,
            background.shutdown.clone(),
        );
        Clocks {
            pool: self.pool.clone(),
            commands: self.commands.clone(),
            interval: self.sagas.clock_interval,
            step_timeout: self.sagas.step_timeout(),
            auto_resumes: self.sagas.auto_resumes,
        }
        .spawn(background);
    }
}
