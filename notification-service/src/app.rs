//! Wiring: connect, migrate, load the agent directory, then consume complaint events,
//! deliver notifications, relay the outbox and serve HTTP; stop in order.

use crate::{
    agents,
    config::{AgentSettings, Config, DEFAULT_SEED_FILE},
    consumer::{self, ComplaintEvents},
    delivery::{AnyTransport, Circuit, DeliverySettings, DeliveryWorker},
    http, store,
};
use anyhow::Context;
use axum::Router;
use shared::{
    http::{Operations, Readiness},
    lifecycle::Background,
    messaging::{Broker, Topology},
    monitoring::{Monitor, MonitorSettings},
    outbox::{Relay, RelaySettings},
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
    transport: Arc<AnyTransport>,
    circuit: Circuit,
    delivery: DeliverySettings,
    relay: RelaySettings,
    readiness: Readiness,
    monitoring: MonitorSettings,
}

impl App {
    pub async fn build(config: Config) -> anyhow::Result<App> {
        let pool = shared::postgres::connect(&config.database).await?;
        sqlx::migrate!("../migrations/notification")
            .run(&pool)
            .await?;
        load_directory(&pool, &config.agents).await?;
        let transport = Arc::new(AnyTransport::build(&config.delivery)?);
        let circuit = Circuit::new(
            config.delivery.transport.as_str(),
            config.delivery.breaker.clone(),
        );
        let topology = Topology::new(config.broker.retry.clone()).with_queue(consumer::queue());
        let broker = Broker::start(config.broker.clone(), topology);
        let background = Background::new();

        let readiness = Readiness::new()
            .postgres(&pool)
            .broker(&broker)
            .degraded_when(circuit.name(), {
                let circuit = circuit.clone();
                move || circuit.is_open().then(|| circuit.state().name())
            });
        let ops = Operations {
            readiness: readiness.clone(),
            broker: broker.clone(),
            openapi: http::openapi(),
            access: shared::auth::Access::new(
                shared::auth::Verifier::new(&config.auth).await?,
                http::ACCESS,
            ),
        };
        let api = http::router(http::AppState { pool: pool.clone() });
        let router = shared::http::service_router(api, ops, &config.http);
        let listener = config.http.bind().await?;
        Ok(App {
            listener,
            router,
            broker,
            pool,
            background,
            transport,
            circuit,
            delivery: config.delivery,
            relay: config.relay,
            readiness,
            monitoring: config.monitoring,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map_or(0, |a| a.port())
    }

    pub fn broker(&self) -> &Broker {
        &self.broker
    }

    /// Consumes, delivers and serves until `shutdown`, then drains background work and
    /// closes connections.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let background = &self.background;
        self.broker.spawn_consumer(
            consumer::QUEUE,
            ComplaintEvents::new(self.pool.clone()),
            &background.tracker,
            background.shutdown.clone(),
        );
        DeliveryWorker::spawn(
            self.pool.clone(),
            self.transport.clone(),
            self.circuit.clone(),
            self.delivery.clone(),
            background,
        );
        Monitor::spawn(
            &self.broker,
            self.readiness.clone(),
            self.monitoring.clone(),
            background,
        );
        Relay::spawn(
            self.pool.clone(),
            self.broker.publisher(),
            self.relay.clone(),
            background,
        );
        let served = shared::http::serve(self.listener, self.router, shutdown).await;
        self.background.stop(&self.broker).await;
        self.pool.close().await;
        Ok(served?)
    }
}

/// Upserts the agents of the seed file into the directory.
async fn load_directory(pool: &PgPool, settings: &AgentSettings) -> anyhow::Result<()> {
    let path = settings.seed_file.as_str();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && path == DEFAULT_SEED_FILE => {
            tracing::info!(
                path,
                "no agent seed file here; using the seed built into the binary"
            );
            agents::EMBEDDED_SEED.to_owned()
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read the agent seed {path}")),
    };
    let directory = agents::parse_seed(&text).with_context(|| format!("agent seed {path}"))?;
    store::agents::upsert_all(pool, &directory).await?;
    tracing::info!(agents = directory.len(), path, "agent directory loaded");
    Ok(())
}
