//! Wiring: connect to MongoDB (creating the indexes) and Redis, then ingest every domain event
//! and keep the Redis mirror; the rest is the shared skeleton (`shared::service`).

use crate::{
    config::Config,
    consumer::{self, Ingestion},
    http::{self, ApiState},
    metrics,
    replay::Replayer,
    store::EventStore,
    streams::{Mirror, RedisStreams},
};
use shared::{
    http::Readiness,
    messaging::Broker,
    service::{Assemble, Parts},
};
use std::sync::Arc;

pub type App = shared::service::App<Config>;

impl Assemble for Config {
    /// Connects to MongoDB (creating the indexes) and Redis, which must answer at start, and
    /// to RabbitMQ, which may come later; ingestion starts as soon as RabbitMQ is there.
    async fn assemble(self) -> anyhow::Result<Parts> {
        // Install the recorder before anything records.
        let _ = shared::telemetry::metrics();
        let mongo = mongodb::Client::with_uri_str(&self.mongo.url).await?;
        let store = Arc::new(EventStore::with_limits(
            &mongo.database(&self.mongo.database),
            self.limits.read(),
        ));
        store.create_indexes().await?;
        let backfilled = store.backfill_time_field().await?;
        if backfilled > 0 {
            tracing::info!(backfilled, "gave stored events their timestampMs");
        }
        if let Ok(count) = store.estimated_count().await {
            metrics::set_event_count(count);
        }
        let redis = RedisStreams::connect(&self.redis).await?;
        let broker = Broker::start(
            self.broker.clone(),
            consumer::topology(self.broker.retry.clone()),
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
        let mirror = Mirror::new(redis.clone(), store.clone());
        let ingestion = Ingestion::new(store.clone(), mirror.clone());
        let api = http::router(ApiState {
            replayer: Arc::new(Replayer::new(
                store.clone(),
                redis.clone(),
                broker.publisher(),
                self.limits.replay_max_events,
            )),
            store,
            redis,
        });
        Ok(
            Parts::new(broker, api, http::openapi(), http::ACCESS, readiness)
                .background(move |broker, background| {
                    mirror.spawn_maintenance(background);
                    broker.spawn_consumer(
                        consumer::QUEUE,
                        ingestion,
                        &background.tracker,
                        background.shutdown.clone(),
                    );
                })
                // The driver wants an explicit shutdown before exit.
                .on_stop(async move { mongo.shutdown().await }),
        )
    }
}
