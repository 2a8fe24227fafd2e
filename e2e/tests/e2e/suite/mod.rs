//! `Suite::start()`: the four services in-process on port 0, on one fresh RabbitMQ vhost,
//! each with fresh storage of its own, notification-service mailing a real SMTP server. Each
//! service can be stopped and started again on the same storage and vhost.

mod configs;
mod service;

pub use configs::CRITICAL_SLA;
pub use service::{Service, ServiceConfig};
pub use shared::test_support::ReceivedMail;

use shared::test_support::{self, SmtpServer, TestVhost};
use std::time::Duration;
use tokio::sync::Semaphore;

/// The suite's SMTP server accepts every recipient at once (only "unknown"/"bounce"
/// addresses are refused, and no test uses them).
const NO_FLAKY_FAILURES: u32 = 0;

static STARTING: Semaphore = Semaphore::const_new(1);

/// How long the suite waits for anything to propagate (generous: two cores run four services,
/// four servers and the tests).
pub const WAIT: Duration = Duration::from_secs(30);

pub struct Suite {
    pub vhost: TestVhost,
    pub smtp: SmtpServer,
    pub complaints: Service,
    pub notifications: Service,
    pub audit: Service,
    pub event_store: Service,
    pub(crate) http: reqwest::Client,
}

impl Suite {
    /// Starts the four services and waits until each is connected.
    pub async fn start() -> Suite {
        Self::start_with(|_| {}).await
    }

    /// [`Suite::start`], after `adjust`ing complaint-service's settings.
    pub async fn start_with(adjust: impl FnOnce(&mut complaint_service::config::Config)) -> Suite {
        shared::telemetry::init_logging(&test_support::env_or("TEST_LOG", "warn"));
        // One suite starts at a time: each start declares dozens of queues (most of them
        // quorum queues), and six suites declaring at once have kept a busy broker from
        // answering within the startup timeout; one at a time, a start takes under a second.
        let _turn = STARTING.acquire().await.expect("the start gate stays open");
        let began = std::time::Instant::now();
        let (smtp, vhost) = tokio::join!(SmtpServer::start(NO_FLAKY_FAILURES), TestVhost::create());
        let mut complaints_config = configs::complaints(&vhost);
        adjust(&mut complaints_config);
        let mut complaints = Service::new(ServiceConfig::Complaints(Box::new(complaints_config)));
        let mut notifications = Service::new(ServiceConfig::Notifications(Box::new(
            configs::notifications(&vhost, smtp.port),
        )));
        let mut audit = Service::new(ServiceConfig::Audit(Box::new(configs::audit(&vhost))));
        let mut event_store = Service::new(ServiceConfig::EventStore(Box::new(
            configs::event_store(&vhost),
        )));
        // The consumers first: their queues must exist before the first event is published.
        tokio::join!(notifications.start(), audit.start(), event_store.start());
        complaints.start().await;
        tracing::info!(seconds = began.elapsed().as_secs_f64(), "suite started");
        Suite {
            vhost,
            smtp,
            complaints,
            notifications,
            audit,
            event_store,
            http: reqwest::Client::builder()
                // Every role (`test-operator`), as the harnesses' clients.
                .default_headers(test_support::auth::headers_with(
                    &test_support::auth::operator_token(),
                ))
                .timeout(WAIT)
                .build()
                .expect("an HTTP client"),
        }
    }

    /// Stops every running service, each as a shutdown signal would.
    pub async fn stop(mut self) {
        self.complaints.stop().await;
        tokio::join!(
            self.notifications.stop(),
            self.audit.stop(),
            self.event_store.stop()
        );
    }

    /// The messages in `queue` of the suite's vhost (ready or unacknowledged), as the
    /// management API reports them (its figures lag by a few seconds).
    pub async fn queue_depth(&self, queue: &str) -> u64 {
        let info = self
            .vhost
            .management_get(&format!("api/queues/{}/{queue}", self.vhost.name))
            .await;
        info["messages"].as_u64().unwrap_or(0)
    }
}
