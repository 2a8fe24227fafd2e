//! One of the four services, run in-process: started on port 0 with its own cancellation
//! token, stopped as a shutdown signal would stop it, and started again later on the same
//! schema, database and vhost (what it missed meanwhile waits in its queues).

use shared::test_support::Running;

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
        let name = self.name();
        let built = |e: anyhow::Error| -> ! { panic!("{name} builds: {e:#}") };
        let running = match &self.config {
            ServiceConfig::Complaints(config) => {
                let app = complaint_service::app::App::build((**config).clone())
                    .await
                    .unwrap_or_else(|e| built(e));
                let (port, broker) = (app.port(), app.broker().clone());
                Running::start(name, port, &broker, |shutdown| app.run(shutdown)).await
            }
            ServiceConfig::Notifications(config) => {
                let app = notification_service::app::App::build((**config).clone())
                    .await
                    .unwrap_or_else(|e| built(e));
                let (port, broker) = (app.port(), app.broker().clone());
                Running::start(name, port, &broker, |shutdown| app.run(shutdown)).await
            }
            ServiceConfig::Audit(config) => {
                let app = audit_service::app::App::build((**config).clone())
                    .await
                    .unwrap_or_else(|e| built(e));
                let (port, broker) = (app.port(), app.broker().clone());
                Running::start(name, port, &broker, |shutdown| app.run(shutdown)).await
            }
            ServiceConfig::EventStore(config) => {
                let app = event_store_service::app::App::build((**config).clone())
                    .await
                    .unwrap_or_else(|e| built(e));
                let (port, broker) = (app.port(), app.broker().clone());
                Running::start(name, port, &broker, |shutdown| app.run(shutdown)).await
            }
        };
        self.running = Some(running);
    }

    /// Stops the service as a shutdown signal would, and checks that it stops cleanly.
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
    }
}
