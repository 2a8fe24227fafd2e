//! Wiring: connect, migrate, start the relay, the projector and the consumers, serve HTTP;
//! stop in order.

use crate::{
    commands::CommandService,
    config::Config,
    consumer::{self, Consumers},
    housekeeping, http,
    projection::projector::{self, ProjectionSignals, Projections, Projector, Rebuilt},
    queries::QueryService,
    saga::recovery::SagaRecovery,
};
use axum::Router;
use shared::{
    http::{Operations, Readiness},
    lifecycle::Background,
    messaging::{Broker, Topology},
    outbox::Relay,
};
use sqlx::PgPool;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub struct App {
    listener: TcpListener,
    router: Router,
    broker: Broker,
    pool: PgPool,
    background: Background,
}

impl App {
    pub async fn build(config: Config) -> anyhow::Result<App> {
        let pool = connect(&config).await?;
        let topology = consumer::queues().into_iter().fold(
            Topology::new(config.broker.retry.clone()),
            Topology::with_queue,
        );
        let broker = Broker::start(config.broker.clone(), topology);
        let background = Background::new();

        let signals = ProjectionSignals::default();
        let commands = Arc::new(
            CommandService::new(pool.clone(), config.policy.policy(), signals.clone())
                .snapshot_every(config.snapshots.every),
        );
        let queries = Arc::new(QueryService::new(
            pool.clone(),
            signals.clone(),
            config.projection.max_read_wait,
        ));
        let projections =
            Projections::new(pool.clone(), config.projection.batch_size, signals.clone());

        Relay::spawn(
            pool.clone(),
            broker.publisher(),
            config.relay.clone(),
            &background,
        );
        Projector::spawn(
            pool.clone(),
            config.projection.clone(),
            signals,
            &background,
        );
        housekeeping::spawn(pool.clone(), config.idempotency.retention, &background);
        Consumers {
            commands: commands.clone(),
            pool: pool.clone(),
            sagas: config.saga.clone(),
        }
        .spawn(&broker, &background);

        let readiness = Readiness::new().postgres(&pool).broker(&broker);
        // MONITORING_* events: consumer lag, a growing DLQ, a dependency down too long.
        shared::monitoring::Monitor::spawn(
            &broker,
            readiness.clone(),
            shared::monitoring::MonitorSettings::default(),
            &background,
        );
        let ops = Operations {
            readiness,
            broker: broker.clone(),
            openapi: http::openapi(),
            access: shared::auth::Access::new(
                shared::auth::Verifier::new(&config.auth).await?,
                http::ACCESS,
            ),
        };
        let api = http::router(http::ApiState {
            commands,
            queries,
            projections,
            pool: pool.clone(),
            sagas: Arc::new(SagaRecovery::new(pool.clone(), config.saga.step_timeout())),
        });
        let router = shared::http::service_router(api, ops, &config.http);
        let listener = config.http.bind().await?;
        Ok(App {
            listener,
            router,
            broker,
            pool,
            background,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map_or(0, |a| a.port())
    }

    pub fn broker(&self) -> &Broker {
        &self.broker
    }

    /// Serves until `shutdown`, then drains background work and closes connections.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let served = shared::http::serve(self.listener, self.router, shutdown).await;
        self.background.stop(&self.broker).await;
        self.pool.close().await;
        Ok(served?)
    }
}

/// Rebuilds the read model from the event store and exits (the `rebuild-projections`
/// subcommand); safe while instances of the service run.
pub async fn rebuild_projections(config: Config) -> anyhow::Result<Rebuilt> {
    let pool = connect(&config).await?;
    let rebuilt = projector::rebuild(
        &pool,
        config.projection.batch_size,
        &ProjectionSignals::default(),
    )
    .await?;
    pool.close().await;
    Ok(rebuilt)
}

async fn connect(config: &Config) -> anyhow::Result<PgPool> {
    let pool = shared::postgres::connect(&config.database).await?;
    sqlx::migrate!("../migrations/complaint").run(&pool).await?;
    Ok(pool)
}
