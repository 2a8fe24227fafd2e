//! A RabbitMQ vhost of its own for each test, made through the management API.
//!
//! The services under test connect as broker users with the permissions of production
//! ([`permissions::GRANTS`]): `test.<user>` (say `test.audit-service`), granted the same patterns
//! on every test vhost, so that every test exercises them. They are named apart from the local
//! set-up's users so that tests never change the passwords `make up`'s services use. Their
//! password is the management user's: whoever has that may do everything anyway, and the test
//! users have permissions on test vhosts only.

use super::{env_or, unique};
use crate::messaging::{permissions, RetryPolicy, Topology};
use reqwest::Url;
use serde_json::json;

#[derive(Clone, Debug)]
pub struct TestVhost {
    pub name: String,
    /// `amqp://…/<vhost>` as the management user (all permissions), for the test's own taps
    /// and for services the permission table does not know.
    pub amqp_url: String,
    amqp_base: String,
    management: Url,
    user: String,
    password: String,
}

/// The broker user tests use for `grant`.
pub fn test_user(grant: &permissions::Grant) -> String {
    format!("test.{}", grant.user)
}

/// The test users exist once per test process (PUT is idempotent, and a reset broker gets
/// them back on the next run).
static TEST_USERS: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

/// The management API answers in milliseconds when healthy; a broker stuck on vhost
/// operations should fail the test with a clear message, not hang it.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

impl TestVhost {
    /// Creates `test-…` and grants the management user every permission on it.
    pub async fn create() -> TestVhost {
        let management = Url::parse(&env_or(
            "RABBITMQ_MANAGEMENT_URL",
            "http://guest:guest@127.0.0.1:15672",
        ))
        .expect("RABBITMQ_MANAGEMENT_URL is a URL");
        let user = management.username().to_owned();
        let password = management.password().unwrap_or_default().to_owned();
        let amqp_base = env_or("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2f");
        let amqp_base = amqp_base
            .rsplit_once('/')
            .map_or(amqp_base.as_str(), |(base, _)| base)
            .to_owned();
        let name = unique("test-");
        let vhost = TestVhost {
            amqp_url: format!("{amqp_base}/{name}"),
            amqp_base,
            name,
            management,
            user,
            password,
        };
        TEST_USERS
            .get_or_init(|| async {
                for grant in permissions::GRANTS {
                    vhost
                        .put(
                            &format!("api/users/{}", test_user(&grant)),
                            json!({"password": vhost.password, "tags": ""}),
                        )
                        .await;
                }
            })
            .await;
        vhost
            .put(&format!("api/vhosts/{}", vhost.name), json!({}))
            .await;
        vhost
            .put(
                &format!("api/permissions/{}/{}", vhost.name, vhost.user),
                json!({"configure": ".*", "write": ".*", "read": ".*"}),
            )
            .await;
        for grant in permissions::GRANTS {
            vhost
                .put(
                    &format!("api/permissions/{}/{}", vhost.name, test_user(&grant)),
                    json!(grant.permissions()),
                )
                .await;
        }
        vhost.declare_shared_exchanges().await;
        vhost
    }

    /// What the broker's definitions declare at boot in a deployment: every exchange (with the
    /// unrouted queue), so that a service finds those it does not own, as it would in production.
    async fn declare_shared_exchanges(&self) {
        let connection =
            lapin::Connection::connect(&self.amqp_url, lapin::ConnectionProperties::default())
                .await
                .expect("connect to RabbitMQ");
        let channel = connection.create_channel().await.expect("a channel");
        Topology::new(RetryPolicy::default())
            .declare(&channel)
            .await
            .expect("declare the exchanges");
        let _ = connection.close(200, "exchanges declared".into()).await;
    }

    /// `amqp://…/<vhost>` as the test user of the suite's broker user `user` (for example
    /// `notification-service`), with exactly its production permissions; `None` if the
    /// permission table has no such user.
    pub fn amqp_url_as(&self, user: &str) -> Option<String> {
        let grant = permissions::grant(user)?;
        let base = Url::parse(&self.amqp_base).expect("RABBITMQ_URL is a URL");
        let mut url = base.clone();
        let _ = url.set_username(&test_user(grant));
        let _ = url.set_password(Some(&self.password));
        let base = url.as_str().trim_end_matches('/');
        Some(format!("{base}/{}", self.name))
    }

    /// PUTs are idempotent, so a refusal is asked again a few times: every test process puts
    /// the same test users when it starts, and RabbitMQ 3.10 answers 400 to a user PUT that
    /// races another one for the same user (seen when CI started many tests at once).
    async fn put(&self, path: &str, body: serde_json::Value) {
        let url = self.api(path);
        let mut attempt = 1;
        loop {
            let response = client()
                .put(url.clone())
                .basic_auth(&self.user, Some(&self.password))
                .json(&body)
                .send()
                .await
                .expect("the RabbitMQ management API answers within 30 s (is the plugin enabled? is the broker stuck deleting vhosts?)");
            let status = response.status();
            if status.is_success() {
                return;
            }
            assert!(attempt < 5, "PUT {path}: {status}, {attempt} times");
            attempt += 1;
            tokio::time::sleep(std::time::Duration::from_millis(200 * attempt)).await;
        }
    }

    fn api(&self, path: &str) -> Url {
        let mut url = self.management.clone();
        let _ = url.set_username("");
        let _ = url.set_password(None);
        url.join(path).expect("a valid API path")
    }

    /// A GET on the management API, as JSON.
    pub async fn management_get(&self, path: &str) -> serde_json::Value {
        client()
            .get(self.api(path))
            .basic_auth(&self.user, Some(&self.password))
            .send()
            .await
            .expect("the management API answers")
            .json()
            .await
            .expect("JSON from the management API")
    }

    /// Force-closes every client connection of this vhost, as a broker restart or a network
    /// cut would (`rabbitmqctl close_all_connections -p <vhost>`).
    pub async fn close_connections(&self) {
        let status = tokio::process::Command::new("rabbitmqctl")
            .args([
                "close_all_connections",
                "-p",
                &self.name,
                "closed by a test",
            ])
            .stdout(std::process::Stdio::null())
            .status()
            .await
            .expect("rabbitmqctl runs");
        assert!(status.success(), "rabbitmqctl close_all_connections failed");
    }

    /// The number of client connections open on this vhost, as the broker sees it now.
    pub async fn connection_count(&self) -> usize {
        let output = tokio::process::Command::new("rabbitmqctl")
            .args(["list_connections", "-q", "vhost"])
            .output()
            .await
            .expect("rabbitmqctl runs");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter(|line| line.trim() == self.name)
            .count()
    }

    /// A queue of the test's own (exclusive, deleted with its connection) bound to `exchange`
    /// with `routing_key`, and a consumer on it (acks are the caller's, unless it consumes
    /// with `no_ack`). The exchange must exist: a service on the vhost has declared it.
    pub async fn tap(
        &self,
        exchange: &str,
        routing_key: &str,
        no_ack: bool,
    ) -> (lapin::Connection, lapin::Consumer) {
        self.tap_all(&[(exchange, routing_key)], no_ack).await
    }

    /// [`TestVhost::tap`] with one queue bound to several `(exchange, routing_key)` pairs, so
    /// that what arrives from all of them keeps the order the broker routed it in.
    pub async fn tap_all(
        &self,
        bindings: &[(&str, &str)],
        no_ack: bool,
    ) -> (lapin::Connection, lapin::Consumer) {
        let connection =
            lapin::Connection::connect(&self.amqp_url, lapin::ConnectionProperties::default())
                .await
                .expect("connect to RabbitMQ");
        let channel = connection.create_channel().await.expect("a channel");
        let (queue, consumer) = private_queue(&channel, no_ack).await;
        for (exchange, routing_key) in bindings {
            channel
                .queue_bind(
                    queue.as_str().into(),
                    (*exchange).into(),
                    (*routing_key).into(),
                    lapin::options::QueueBindOptions::default(),
                    lapin::types::FieldTable::default(),
                )
                .await
                .expect("bind the tap queue");
        }
        (connection, consumer)
    }
}

/// A queue of the test's own on `channel` (exclusive: deleted with its connection), named by
/// the broker, and a consumer on it (acks are the caller's, unless it consumes with `no_ack`):
/// a tap, or the reply queue of a request.
pub async fn private_queue(channel: &lapin::Channel, no_ack: bool) -> (String, lapin::Consumer) {
    use lapin::{
        options::{BasicConsumeOptions, QueueDeclareOptions},
        types::FieldTable,
    };
    let queue = channel
        .queue_declare(
            "".into(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .expect("declare a queue of the test's own");
    let name = queue.name().as_str().to_owned();
    let consumer = channel
        .basic_consume(
            name.as_str().into(),
            "test".into(),
            BasicConsumeOptions {
                no_ack,
                ..BasicConsumeOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .expect("consume the queue of the test's own");
    (name, consumer)
}
