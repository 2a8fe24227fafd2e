//! Wiring: connect, migrate, record every domain event and relay the outbox; the rest is the
//! shared skeleton (`shared::service`).

use crate::{
    config::Config,
    consumer::{Recorder, QUEUE},
    http::{self, AuditApi},
    store::Store,
};
use shared::{
    http::Readiness,
    messaging::{Broker, QueueSpec, Topology},
    outbox::Relay,
    service::{Assemble, Parts},
};

pub type App = shared::service::App<Config>;

impl Assemble for Config {
    async fn assemble(self) -> anyhow::Result<Parts> {
        let migrations = sqlx::migrate!("../migrations/audit");
        let pool = shared::postgres::connect_migrated(&self.database, migrations).await?;
        let topology = Topology::new(self.broker.retry.clone())
            .with_queue(QueueSpec::new(QUEUE).bind_all_domain_events());
        let broker = Broker::start(self.broker.clone(), topology);
        let store = Store::new(pool.clone());
        let readiness = Readiness::new().postgres(&pool).broker(&broker);
        let api = http::router(AuditApi::new(store.clone(), self.audit.verify_page_size));
        Ok(
            Parts::new(broker, api, http::openapi(), http::ACCESS, readiness)
                .background(move |broker, background| {
                    broker.spawn_consumer(
                        QUEUE,
                        Recorder::new(store),
                        &background.tracker,
                        background.shutdown.clone(),
                    );
                })
                .background({
                    let (pool, relay) = (pool.clone(), self.relay);
                    move |broker, background| {
                        shared::postgres::keep_tables(pool.clone(), background);
                        Relay::spawn(pool, broker.publisher(), relay, background)
                    }
                })
                .on_stop(async move { pool.close().await }),
        )
    }
}
