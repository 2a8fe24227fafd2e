//! Wiring: connect, create indexes, start ingestion and the Redis mirror, serve HTTP; stop in
//! order.

use crate::{
    config::Config,
    consumer::{self, Ingestion},
    http::{self, ApiState},
    metrics,
    replay::Replayer,
    store::EventStore,
    streams::{Mirror, RedisStreams},
};
use axum::Router;
use shared::{
    http::{Operations, Readiness},
    lifecycle::Background,
    messaging::Broker,
};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub struct App {
    listener: TcpListener,
    router: Router,
    broker: Broker,
    mongo: mongodb::Client,
    background: Background,
}

impl App {
    /// Connects to MongoDB (creating the indexes) and Redis, which must answer at start, and
    /// to RabbitMQ, which may come later; ingestion starts as soon as RabbitMQ is there.
    pub async fn build(config: Config) -> anyhow::Result<App> {
        // Install the recorder before anything records.
        let _ = shared::telemetry::metrics();
        let mongo = mongodb::Client::with_uri_str(&config.mongo.url).await?;
        let store = Arc::new(EventStore::with_limits(
            &mongo.database(&config.mongo.database),
            config.limits.read(),
        ));
        store.create_indexes().await?;
        let backfilled = store.backfill_time_field().await?;
        if backfilled > 0 {
            tracing::info!(backfilled, "gave stored events their timestampMs");
        }
        if let Ok(count) = store.estimated_count().await {
            metrics::set_event_count(count);
        }
        let redis = RedisStreams::connect(&config.redis).await?;

        let broker = Broker::start(
            config.broker.clone(),
            consumer::topology(config.broker.retry.clone()),
        );
        let background = Background::new();
        let mirror = Mirror::new(redis.clone(), store.clone());
        mirror.spawn_maintenance(&background);
        broker.spawn_consumer(
            consumer::QUEUE,
            Ingestion::new(store.clone(), mirror),
            &background.tracker,
            background.shutdown.clone(),
        );

        let readiness = Readiness::new()
            .broker(&broker)
            .check("mongodb", {
                let store = store.clone();
                move || {
                    let store = store.clone();
                    async move { store.ping().await }
                }
            })
            .check("redis", {
                let redis = redis.clone();
                move || {
                    let redis = redis.clone();
                    async move { redis.ping().await }
                }
            });
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
        let api = ApiState {
            replayer: Arc::new(Replayer::new(
                store.clone(),
                redis.clone(),
                broker.publisher(),
                config.limits.replay_max_events,
            )),
            store,
            redis,
        };
        let router = shared::http::service_router(http::router(api), ops, &config.http);
        let listener = config.http.bind().await?;
        Ok(App {
            listener,
            router,
            broker,
            mongo,
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
        // The driver wants an explicit shutdown before exit.
        self.mongo.shutdown().await;
        Ok(served?)
    }
}
