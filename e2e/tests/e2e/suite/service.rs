//! One of the four services, run in-process: started on port 0 with its own cancellation
//! token, stopped as a shutdown signal would stop it, and started again later on the same
//! schema, database and vhost (what it missed meanwhile waits in its queues).

use shared::messaging::Broker;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long a service gets to connect, or to stop.
const STARTUP: Duration = Duration::from_secs(30);

/// What a service is started from; kept so that it can be started again identically.
#[derive(Clone)]
pub enum ServiceConfig {
    Complaints(Box<complaint_service::config::Config>),
    Notifications(Box<notification_service::config::Config>),
    Audit(Box<audit_service::config::Config>),
    EventStore(Box<event_store_service::config::Config>),
}

impl ServiceConfig {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Complaints(_) => complaint_service::config::SERVICE,
            Self::Notifications(_) => notification_service::config::SERVICE,
            Self::Audit(_) => audit_service::config::SERVICE,
            Self::EventStore(_) => event_store_service::config::SERVICE,
        }
    }
}

struct Running {
    address: String,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

pub struct Service {
    pub config: ServiceConfig,
    running: Option<Running>,
}

impl Service {
    pub fn new(config: ServiceConfig) -> Self {
        Self {
            config,
            running: None,
        }
    }

    pub fn name(&self) -> &'static str {
        self.config.name()
    }

    /// `http://127.0.0.1:<port>` of the running instance (a new port at each start).
    pub fn address(&self) -> &str {
        match &self.running {
            Some(running) => &running.address,
            None => panic!("{} is stopped", self.name()),
        }
    }

    /// Builds the real `App` and runs it until [`Service::stop`]; returns once it is connected
    /// to RabbitMQ.
    pub async fn start(&mut self) {
        assert!(self.running.is_none(), "{} is already running", self.name());
        let shutdown = CancellationToken::new();
        let name = self.name();
        let (port, broker, task) = match &self.config {
            ServiceConfig::Complaints(config) => {
                let app = complaint_service::app::App::build((**config).clone())
                    .await
                    .unwrap_or_else(|e| panic!("{name} builds: {e:#}"));
                let broker = app.broker().clone();
                (app.port(), broker, tokio::spawn(app.run(shutdown.clone())))
            }
            ServiceConfig::Notifications(config) => {
                let app = notification_service::app::App::build((**config).clone())
                    .await
                    .unwrap_or_else(|e| panic!("{name} builds: {e:#}"));
                let broker = app.broker().clone();
                (app.port(), broker, tokio::spawn(app.run(shutdown.clone())))
            }
            ServiceConfig::Audit(config) => {
                let app = audit_service::app::App::build((**config).clone())
                    .await
                    .unwrap_or_else(|e| panic!("{name} builds: {e:#}"));
                let broker = app.broker().clone();
                (app.port(), broker, tokio::spawn(app.run(shutdown.clone())))
            }
            ServiceConfig::EventStore(config) => {
                let app = event_store_service::app::App::build((**config).clone())
                    .await
                    .unwrap_or_else(|e| panic!("{name} builds: {e:#}"));
                let broker = app.broker().clone();
                (app.port(), broker, tokio::spawn(app.run(shutdown.clone())))
            }
        };
        connected(name, &broker).await;
        self.running = Some(Running {
            address: format!("http://127.0.0.1:{port}"),
            shutdown,
            task,
        });
    }

    /// Stops the service as a shutdown signal would, and checks that it stops cleanly.
    pub async fn stop(&mut self) {
        let Some(running) = self.running.take() else {
            return;
        };
        running.shutdown.cancel();
        let name = self.name();
        tokio::time::timeout(STARTUP + STARTUP, running.task)
            .await
            .unwrap_or_else(|_| panic!("{name} stops within a minute"))
            .unwrap_or_else(|e| panic!("{name} does not panic: {e}"))
            .unwrap_or_else(|e| panic!("{name} stops cleanly: {e:#}"));
    }
}

async fn connected(name: &str, broker: &Broker) {
    assert!(
        broker.wait_ready(STARTUP).await,
        "{name} connects to RabbitMQ"
    );
}
