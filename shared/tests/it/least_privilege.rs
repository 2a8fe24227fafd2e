//! Each service connects to RabbitMQ as its own user (`messaging::permissions`): its own flows
//! work, and the broker refuses it what belongs to another service.

use lapin::{
    options::{BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions, ExchangeDeleteOptions},
    BasicProperties, Channel, Connection, ConnectionProperties,
};
use shared::{
    event::exchanges,
    messaging::{Broker, Outgoing, QueueSpec, Topology},
    test_support::{self, eventually, TestVhost},
};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);
const NOTIFICATION_QUEUE: &str = "notification-service.complaint-events";
const AUDIT_QUEUE: &str = "audit-service.all-events";

/// A service's broker, connected as its own user, with (a queue shaped like) its topology.
async fn service(vhost: &TestVhost, name: &str, queue: Option<QueueSpec>) -> Broker {
    let settings = test_support::broker(vhost, name);
    assert!(
        settings.url.contains(&format!("test.{name}:")),
        "{name} connects as its own user"
    );
    let topology = queue
        .into_iter()
        .fold(Topology::new(settings.retry.clone()), Topology::with_queue);
    let broker = Broker::start(settings, topology);
    assert!(
        broker.wait_ready(WAIT).await,
        "{name} declares its topology with its own permissions"
    );
    broker
}

/// A channel in confirm mode, as the user of `service`.
async fn channel_as(vhost: &TestVhost, service: &str) -> (Connection, Channel) {
    let url = vhost.amqp_url_as(service).expect("a user of the suite");
    let connection = Connection::connect(&url, ConnectionProperties::default())
        .await
        .expect("the user may connect to the vhost");
    let channel = connection.create_channel().await.expect("a channel");
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .expect("confirm mode");
    (connection, channel)
}

/// Publishes one message and waits for the broker's answer.
async fn publish(channel: &Channel, exchange: &str, routing_key: &str) -> lapin::Result<()> {
    let confirm = channel
        .basic_publish(
            exchange.into(),
            routing_key.into(),
            BasicPublishOptions::default(),
            b"{}",
            BasicProperties::default(),
        )
        .await?;
    let confirmation = confirm.await?;
    assert!(confirmation.is_ack(), "the broker took the message");
    Ok(())
}

fn access_refused(result: lapin::Result<impl std::fmt::Debug>) -> bool {
    match result {
        Err(error) => matches!(
            error.kind(),
            lapin::ErrorKind::ProtocolError(amqp) if amqp.get_id() == 403
        ),
        Ok(_) => false,
    }
}

#[tokio::test]
async fn notification_service_cannot_publish_to_the_complaint_exchange() {
    let vhost = TestVhost::create().await;
    let (_connection, channel) = channel_as(&vhost, "notification-service").await;

    let outcome = publish(&channel, exchanges::COMPLAINTS, "complaint.created").await;

    assert!(access_refused(outcome), "ACCESS_REFUSED");
    assert!(
        !channel.status().connected(),
        "the broker closed the channel"
    );
}

#[tokio::test]
async fn a_service_cannot_read_another_services_queue_nor_delete_its_exchange() {
    let vhost = TestVhost::create().await;
    let audit = service(
        &vhost,
        "audit-service",
        Some(QueueSpec::new(AUDIT_QUEUE).bind_all_domain_events()),
    )
    .await;

    let (_connection, channel) = channel_as(&vhost, "notification-service").await;
    let get = channel
        .basic_get(AUDIT_QUEUE.into(), BasicGetOptions::default())
        .await;
    assert!(
        access_refused(get),
        "reading audit-service's queue is refused"
    );

    let (_connection, channel) = channel_as(&vhost, "notification-service").await;
    let delete = channel
        .exchange_delete(exchanges::AUDIT.into(), ExchangeDeleteOptions::default())
        .await;
    assert!(access_refused(delete), "deleting audit.events is refused");

    let (_connection, channel) = channel_as(&vhost, "api-client").await;
    let outcome = publish(&channel, exchanges::COMPLAINTS, "complaint.created").await;
    assert!(
        access_refused(outcome),
        "the api client may not publish events"
    );
    audit.close().await;
}

#[tokio::test]
async fn each_service_publishes_to_its_exchanges_and_reads_its_own_queue() {
    let vhost = TestVhost::create().await;
    let notifications = service(
        &vhost,
        "notification-service",
        Some(QueueSpec::new(NOTIFICATION_QUEUE).bind(exchanges::COMPLAINTS, "#")),
    )
    .await;
    let complaints = service(&vhost, "complaint-service", None).await;

    // complaint-service publishes a complaint event; it reaches notification-service's queue.
    complaints
        .publisher()
        .send(vec![Outgoing {
            exchange: exchanges::COMPLAINTS,
            routing_key: "complaint.created",
            payload: b"{}",
            properties: BasicProperties::default(),
        }])
        .await
        .expect("complaint-service may publish complaint events");
    let (_connection, channel) = channel_as(&vhost, "notification-service").await;
    eventually(
        "the event in notification-service's queue",
        WAIT,
        || async {
            channel
                .basic_get(NOTIFICATION_QUEUE.into(), BasicGetOptions { no_ack: true })
                .await
                .expect("notification-service may read its own queue")
        },
    )
    .await;

    // notification-service publishes its own events and raises errors.
    for exchange in [exchanges::NOTIFICATIONS, exchanges::ERRORS] {
        notifications
            .publisher()
            .send(vec![Outgoing {
                exchange,
                routing_key: "notification.sent",
                payload: b"{}",
                properties: BasicProperties::default(),
            }])
            .await
            .unwrap_or_else(|e| panic!("notification-service may publish to {exchange}: {e}"));
    }
    notifications.close().await;
    complaints.close().await;
}
