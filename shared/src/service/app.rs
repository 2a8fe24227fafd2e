//! `App`: build (bind the port, then assemble the service), `port`, `broker`, `run` until a
//! token is cancelled, then stop in order.

use super::ServiceSettings;
use crate::{
    auth::{Access, Rule, Verifier},
    http::{Operations, Readiness},
    lifecycle::Background,
    messaging::Broker,
    monitoring::{Monitor, MonitorSettings},
};
use anyhow::Context;
use axum::Router;
use std::{future::Future, marker::PhantomData, ops::Deref, pin::Pin};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Implemented by a service's `Config`: how the service is put together. The config holds
/// the [`ServiceSettings`] (see [`crate::service_settings!`]).
pub trait Assemble: Deref<Target = ServiceSettings> + Send + Sized + 'static {
    /// Connects, migrates and wires the service, starting no background work: that is
    /// returned in [`Parts`], and started by [`App::run`].
    fn assemble(self) -> impl Future<Output = anyhow::Result<Parts>> + Send;
}

type Task = Box<dyn FnOnce(&Broker, &Background) + Send>;
type Closing = Pin<Box<dyn Future<Output = ()> + Send>>;

/// What a service brings to the skeleton.
pub struct Parts {
    broker: Broker,
    api: Router,
    openapi: utoipa::openapi::OpenApi,
    access: &'static [Rule],
    readiness: Readiness,
    tasks: Vec<Task>,
    closings: Vec<Closing>,
}

impl Parts {
    /// The service's API (`api`, documented by `openapi`, guarded by the `access` rules), its
    /// broker and the readiness of its dependencies.
    pub fn new(
        broker: Broker,
        api: Router,
        openapi: utoipa::openapi::OpenApi,
        access: &'static [Rule],
        readiness: Readiness,
    ) -> Self {
        Self {
            broker,
            api,
            openapi,
            access,
            readiness,
            tasks: Vec::new(),
            closings: Vec::new(),
        }
    }

    /// Background work (consumers, relays, timers) started when the service runs.
    pub fn background(mut self, task: impl FnOnce(&Broker, &Background) + Send + 'static) -> Self {
        self.tasks.push(Box::new(task));
        self
    }

    /// Awaited once the background work has stopped, such as closing a pool.
    pub fn on_stop(mut self, closing: impl Future<Output = ()> + Send + 'static) -> Self {
        self.closings.push(Box::pin(closing));
        self
    }
}

/// A service: its port bound, its HTTP surface ready, its background work not started yet.
pub struct App<C> {
    listener: TcpListener,
    router: Router,
    broker: Broker,
    readiness: Readiness,
    monitoring: MonitorSettings,
    tasks: Vec<Task>,
    closings: Vec<Closing>,
    config: PhantomData<fn() -> C>,
}

impl<C: Assemble> App<C> {
    /// Binds the port first, so that a port already taken fails the build before anything
    /// connects or starts; then assembles the service and its HTTP surface.
    pub async fn build(config: C) -> anyhow::Result<Self> {
        let settings = ServiceSettings::clone(&config);
        let http = &settings.http;
        let listener = http
            .bind()
            .await
            .with_context(|| format!("cannot listen on {}:{}", http.host, http.port))?;
        let verifier = Verifier::new(&settings.auth).await?;
        let parts = config.assemble().await?;
        let ops = Operations {
            readiness: parts.readiness.clone(),
            broker: parts.broker.clone(),
            openapi: parts.openapi,
            access: Access::new(verifier, parts.access),
        };
        let router = crate::http::service_router(parts.api, ops, http);
        Ok(App {
            listener,
            router,
            broker: parts.broker,
            readiness: parts.readiness,
            monitoring: settings.monitoring,
            tasks: parts.tasks,
            closings: parts.closings,
            config: PhantomData,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map_or(0, |a| a.port())
    }

    pub fn broker(&self) -> &Broker {
        &self.broker
    }

    /// Starts the background work and the monitor (MONITORING_* events: consumer lag, a
    /// growing DLQ, a dependency down too long), serves until `shutdown`, then drains the
    /// background work and closes connections.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let background = Background::new();
        for task in self.tasks {
            task(&self.broker, &background);
        }
        Monitor::spawn(&self.broker, self.readiness, self.monitoring, &background);
        let served = crate::http::serve(self.listener, self.router, shutdown).await;
        background.stop(&self.broker).await;
        for closing in self.closings {
            closing.await;
        }
        Ok(served?)
    }
}
