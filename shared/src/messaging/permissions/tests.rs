use super::*;
use crate::messaging::{QueueSpec, RetryPolicy, Topology};

/// The boot-time definitions of compose, and where they are.
fn compose_definitions() -> (&'static str, serde_json::Value) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../compose/rabbitmq/definitions.json"
    );
    let text = std::fs::read_to_string(path).expect("compose/rabbitmq/definitions.json");
    (path, serde_json::from_str(&text).expect("valid JSON"))
}

#[test]
fn a_service_may_configure_its_own_queues_and_exchanges_only() {
    let grant = grant("notification-service").expect("a grant");
    assert!(grant.may_configure("notification-service.complaint-events"));
    assert!(grant.may_configure("notification-service.complaint-events.retry.1000ms"));
    assert!(grant.may_configure(exchanges::NOTIFICATIONS));
    assert!(!grant.may_configure("notification-service"));
    assert!(!grant.may_configure("notification-services.x"));
    assert!(!grant.may_configure("audit-service.all-events"));
    assert!(!grant.may_configure(exchanges::COMPLAINTS));
    assert!(!grant.may_configure(exchanges::ERRORS));
}

#[test]
fn the_patterns_of_notification_service_name_exactly_what_it_needs() {
    assert_eq!(
        NOTIFICATION_SERVICE.permissions(),
        Permissions {
            configure: r"^(notification-service\..*|notifications\.events)$".into(),
            write: r"^(notification-service\..*|notifications\.events|errors\.events|monitoring\.events|amq\.default|events\.unrouted)$".into(),
            read: r"^(notification-service\..*|complaints\.events)$".into(),
        }
    );
}

#[test]
fn the_api_client_may_only_publish_commands() {
    assert_eq!(
        API_CLIENT.permissions(),
        Permissions {
            configure: "^$".into(),
            write: r"^(complaints\.commands)$".into(),
            read: "^$".into(),
        }
    );
}

#[test]
fn every_exchange_has_exactly_one_declarer() {
    let plan = Topology::new(RetryPolicy::default()).declarations();
    let names = plan
        .exchanges
        .iter()
        .map(|e| e.name.as_str())
        .chain([exchanges::COMMANDS, MONITORING_EXCHANGE]);
    for name in names {
        let declarers = GRANTS.iter().filter(|g| g.declares.contains(&name)).count()
            + usize::from(OPERATOR_EXCHANGES.contains(&name));
        assert_eq!(declarers, 1, "{name} is declared by {declarers} parties");
    }
}

#[test]
fn every_exchange_a_service_publishes_to_or_binds_from_exists() {
    let plan = Topology::new(RetryPolicy::default()).declarations();
    let known: Vec<&str> = plan
        .exchanges
        .iter()
        .map(|e| e.name.as_str())
        .chain([exchanges::COMMANDS, MONITORING_EXCHANGE])
        .collect();
    for grant in GRANTS {
        for exchange in grant.publishes.iter().chain(grant.binds_from) {
            assert!(
                known.contains(exchange),
                "{}: unknown {exchange}",
                grant.user
            );
        }
    }
}

#[test]
fn a_service_binding_to_an_exchange_may_read_it() {
    // The real queue set-ups, as the services build them.
    let cases = [
        (
            &COMPLAINT_SERVICE,
            QueueSpec::new("complaint-service.sagas")
                .bind(exchanges::COMPLAINTS, "#")
                .bind(exchanges::NOTIFICATIONS, "#")
                .bind(exchanges::AUDIT, "#"),
        ),
        (
            &NOTIFICATION_SERVICE,
            QueueSpec::new("notification-service.complaint-events")
                .bind(exchanges::COMPLAINTS, "#"),
        ),
        (
            &AUDIT_SERVICE,
            QueueSpec::new("audit-service.all-events").bind_all_domain_events(),
        ),
        (
            &EVENT_STORE_SERVICE,
            QueueSpec::new("event-store-service.all-events").bind_all_domain_events(),
        ),
    ];
    for (grant, spec) in cases {
        assert!(grant.may_configure(&spec.name), "{}", spec.name);
        for binding in &spec.bindings {
            assert!(
                grant.binds_from.contains(&binding.exchange.as_str()),
                "{} binds from {}",
                grant.user,
                binding.exchange
            );
        }
    }
}

/// The boot-time definitions (compose) hold one user per grant, with exactly these patterns,
/// and no other user with permissions on "/" but the administrator.
#[test]
fn the_compose_definitions_grant_what_the_table_says() {
    let (path, definitions) = compose_definitions();
    let permissions = definitions["permissions"].as_array().expect("permissions");
    for grant in GRANTS {
        let expected = grant.permissions();
        let found = permissions
            .iter()
            .find(|p| p["user"] == grant.user && p["vhost"] == "/")
            .unwrap_or_else(|| panic!("no permissions for {} in {path}", grant.user));
        assert_eq!(found["configure"], expected.configure, "{}", grant.user);
        assert_eq!(found["write"], expected.write, "{}", grant.user);
        assert_eq!(found["read"], expected.read, "{}", grant.user);
        assert!(
            definitions["users"]
                .as_array()
                .unwrap()
                .iter()
                .any(|u| u["name"] == grant.user && u["tags"].as_array().unwrap().is_empty()),
            "{} is a user without tags",
            grant.user
        );
    }
}

/// A service checks (passively) that the exchanges it does not own exist: in compose the
/// definitions make them at boot, locally `scripts/rabbitmq_users.py` makes them from the same
/// file. An exchange missing there would keep the services from ever becoming ready.
#[test]
fn every_exchange_the_services_declare_is_in_the_compose_definitions() {
    let (path, definitions) = compose_definitions();
    let defined: Vec<&str> = definitions["exchanges"]
        .as_array()
        .expect("exchanges")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    for exchange in Topology::new(RetryPolicy::default())
        .declarations()
        .exchanges
    {
        assert!(
            defined.contains(&exchange.name.as_str()),
            "{} is not in {path}: regenerate it (scripts/ops/check_definitions.py --write)",
            exchange.name
        );
    }
}
