//! Wiring: connect, migrate, start the recorder and the outbox relay, serve HTTP; stop in
//! order.

use crate::{
    config::Config,
    consumer::{Recorder, QUEUE},
    http::{self, AuditApi},
    store::Store,
};
use axum::Router;
use shared::{
    http::{Operations, Readiness},
    lifecycle::Background,
    messaging::{Broker, QueueSpec, Topology},
    outbox::Relay,
};
use sqlx::PgPool;
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
        let pool = shared::postgres::connect(&config.database).await?;
        sqlx::migrate!("../migrations/audit").run(&pool).await?;
        let topology = Topology::new(config.broker.retry.clone())
            .with_queue(QueueSpec::new(QUEUE).bind_all_domain_events());
        let broker = Broker::start(config.broker.clone(), topology);
        let background = Background::new();
        let store = Store::new(pool.clone());

        broker.spawn_consumer(
            QUEUE,
            Recorder::new(store.clone()),
            &background.tracker,
            background.shutdown.clone(),
        );
        Relay::spawn(
            pool.clone(),
            broker.publisher(),
            config.relay.clone(),
            &background,
        );

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
        let api = AuditApi::new(store, config.audit.verify_page_size);
        let router = shared::http::service_router(http::router(api), ops, &config.http);
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
