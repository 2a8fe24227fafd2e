//! Start-up: the port is bound before anything else starts, so a service that cannot listen
//! leaves nothing behind (no consumer taking messages it would never answer for).

use audit_service::{
    app::App,
    config::{Config, SERVICE},
};
use shared::test_support::{self, TestVhost};
use std::time::Duration;

#[tokio::test]
async fn an_app_whose_port_is_taken_fails_to_build_and_leaves_no_consumer_behind() {
    let vhost = TestVhost::create().await;
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let mut config = Config::default();
    config.http.host = "127.0.0.1".into();
    config.http.port = taken.local_addr().expect("an address").port();
    config.auth = test_support::auth::settings();
    config.database = test_support::database();
    config.broker = test_support::broker(&vhost, SERVICE);

    let error = match App::build(config).await {
        Ok(_) => panic!("the app built on a port already taken"),
        Err(error) => error,
    };
    assert!(error.to_string().contains("cannot listen"), "{error:#}");

    // A consumer started before the bind would have connected by now.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        vhost.connection_count().await,
        0,
        "connections to the vhost"
    );
    let consumers = vhost
        .management_get(&format!("api/consumers/{}", vhost.name))
        .await;
    assert_eq!(consumers, serde_json::json!([]), "consumers on the vhost");
}
