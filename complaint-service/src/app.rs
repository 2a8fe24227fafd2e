//! Wiring: connect, migrate, then relay the outbox, project the read model, keep idempotency
//! keys tidy and consume commands and saga replies; the rest is the shared skeleton
//! (`shared::service`).

use crate::{
    commands::CommandService,
    config::Config,
    consumer::{self, Consumers},
    housekeeping, http,
    projection::{
        projector::{ProjectionSignals, Projections, Projector},
        rebuild::{self, Rebuilt},
    },
    queries::QueryService,
    saga::recovery::SagaRecovery,
};
use shared::{
    http::Readiness,
    messaging::{Broker, Topology},
    outbox::Relay,
    service::{Assemble, Parts},
};
use sqlx::PgPool;
use std::sync::Arc;

pub type App = shared::service::App<Config>;

impl Assemble for Config {
    async fn assemble(self) -> anyhow::Result<Parts> {
        let pool = connect(&self).await?;
        let topology = consumer::queues().into_iter().fold(
            Topology::new(self.broker.retry.clone()),
            Topology::with_queue,
        );
        let broker = Broker::start(self.broker.clone(), topology);

        let signals = ProjectionSignals::default();
        let commands = CommandService::new(pool.clone(), self.policy.policy(), signals.clone())
            .snapshot_every(self.snapshots.every);
        // Two doors to the same pool: requests share part of it, the consumers the rest.
        let (requested, worked) = (
            Arc::new(
                commands
                    .clone()
                    .sharing(self.database.request_connections()),
            ),
            Arc::new(commands),
        );
        let queries = Arc::new(QueryService::new(
            pool.clone(),
            signals.clone(),
            self.projection.max_read_wait,
        ));
        let projections = Projections::new(pool.clone(), signals.clone());
        let readiness = Readiness::new().postgres(&pool).broker(&broker);
        let api = http::router(http::ApiState {
            commands: requested,
            queries,
            projections,
            pool: pool.clone(),
            sagas: Arc::new(SagaRecovery::new(pool.clone(), self.saga.step_timeout())),
        });
        let consumers = Consumers {
            commands: worked,
            pool: pool.clone(),
            sagas: self.saga.clone(),
        };
        let (relay, projection, retention) =
            (self.relay, self.projection, self.idempotency.retention);
        Ok(
            Parts::new(broker, api, http::openapi(), http::ACCESS, readiness)
                .background({
                    let pool = pool.clone();
                    move |broker, background| {
                        shared::postgres::keep_tables(pool.clone(), background);
                        Relay::spawn(pool.clone(), broker.publisher(), relay, background);
                        Projector::spawn(pool.clone(), projection, signals, background);
                        housekeeping::spawn(pool, retention, background);
                        consumers.spawn(broker, background);
                    }
                })
                .on_stop(async move { pool.close().await }),
        )
    }
}

/// Rebuilds the read model from the event store and exits (the `rebuild-projections`
/// subcommand); safe while instances of the service run.
pub async fn rebuild_projections(config: Config) -> anyhow::Result<Rebuilt> {
    let pool = connect(&config).await?;
    let rebuilt = rebuild::rebuild(&pool, &ProjectionSignals::default()).await?;
    pool.close().await;
    Ok(rebuilt)
}

async fn connect(config: &Config) -> anyhow::Result<PgPool> {
    let migrations = sqlx::migrate!("../migrations/complaint");
    shared::postgres::connect_migrated(&config.database, migrations).await
}
