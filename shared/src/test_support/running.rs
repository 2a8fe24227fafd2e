//! A service's `App` running inside the test process, on a task of its own, until the test
//! stops it as a shutdown signal would (and checks that it stops cleanly).

use super::WAIT;
use crate::messaging::Broker;
use std::future::Future;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub struct Running {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    name: String,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Spawns `run` (the app's `run(shutdown)`) and waits until `broker` (the app's) is
    /// connected to RabbitMQ, so that the test starts on a service that is up.
    pub async fn start<F>(
        name: &str,
        port: u16,
        broker: &Broker,
        run: impl FnOnce(CancellationToken) -> F,
    ) -> Running
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(run(shutdown.clone()));
        assert!(broker.wait_ready(WAIT).await, "{name} connects to RabbitMQ");
        Running {
            address: format!("http://127.0.0.1:{port}"),
            name: name.to_owned(),
            shutdown,
            task,
        }
    }

    /// Stops the app as a shutdown signal would; fails the test unless it stops cleanly and
    /// promptly.
    pub async fn stop(self) {
        let name = self.name;
        self.shutdown.cancel();
        tokio::time::timeout(WAIT + WAIT, self.task)
            .await
            .unwrap_or_else(|_| panic!("{name} stops within a minute"))
            .unwrap_or_else(|e| panic!("{name} does not panic: {e}"))
            .unwrap_or_else(|e| panic!("{name} stops cleanly: {e:#}"));
    }
}
