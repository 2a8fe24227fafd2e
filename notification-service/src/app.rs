//! Wiring: connect, migrate, load the agent directory, then consume complaint events,
//! deliver notifications and relay the outbox; the rest is the shared skeleton
//! (`shared::service`).

use crate::{
    agents,
    config::{AgentSettings, Config, DEFAULT_SEED_FILE},
    consumer::{self, ComplaintEvents},
    delivery::{AnyTransport, Circuit, DeliveryWorker},
    http, store,
};
use anyhow::Context;
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
        let migrations = sqlx::migrate!("../migrations/notification");
        let pool = shared::postgres::connect_migrated(&self.database, migrations).await?;
        load_directory(&pool, &self.agents).await?;
        let transport = Arc::new(AnyTransport::build(&self.delivery)?);
        let circuit = Circuit::new(
            self.delivery.transport.as_str(),
            self.delivery.breaker.clone(),
        );
        let topology = Topology::new(self.broker.retry.clone()).with_queue(consumer::queue());
        let broker = Broker::start(self.broker.clone(), topology);
        let readiness = Readiness::new()
            .postgres(&pool)
            .broker(&broker)
            .degraded_when(circuit.name(), {
                let circuit = circuit.clone();
                move || circuit.is_open().then(|| circuit.state().name())
            });
        let api = http::router(http::AppState { pool: pool.clone() });
        let (delivery, relay) = (self.delivery, self.relay);
        Ok(
            Parts::new(broker, api, http::openapi(), http::ACCESS, readiness)
                .background({
                    let pool = pool.clone();
                    move |broker, background| {
                        broker.spawn_consumer(
                            consumer::QUEUE,
                            ComplaintEvents::new(pool.clone()),
                            &background.tracker,
                            background.shutdown.clone(),
                        );
                        DeliveryWorker::spawn(
                            pool.clone(),
                            transport,
                            circuit,
                            delivery,
                            background,
                        );
                        shared::postgres::keep_tables(pool.clone(), background);
                        Relay::spawn(pool, broker.publisher(), relay, background);
                    }
                })
                .on_stop(async move { pool.close().await }),
        )
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
