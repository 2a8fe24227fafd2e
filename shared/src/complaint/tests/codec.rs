//! Complaint events through the envelope's JSON, as consumers see them.

use serde_json::{json, Value};

use super::*;
use crate::event::{exchanges, Envelope, EventType, Metadata};

fn one_of_each() -> Vec<ComplaintEvent> {
    vec![
        created(),
        ComplaintEvent::Assigned(ComplaintAssigned {
            agent_id: agent("a2"),
            previous_agent_id: Some(agent("a1")),
        }),
        processed("a1"),
        resolved("a1"),
        closed(),
        ComplaintEvent::Reopened(ComplaintReopened {
            reason: reason("Still broken."),
            agent_id: None,
            sla_deadline: days(3),
        }),
        ComplaintEvent::PriorityChanged(ComplaintPriorityChanged {
            from: Priority::Low,
            to: Priority::Critical,
            reason: None,
            sla_deadline: hours(4),
        }),
        ComplaintEvent::Escalated(ComplaintEscalated {
            from: Priority::High,
            to: Priority::Critical,
            escalation_level: 2,
            sla_deadline: hours(30),
        }),
        ComplaintEvent::CompensationRequired(ComplaintCompensationRequired {
            agent_id: agent("ghost"),
            reason: reason("unknown agent"),
            failed_step: "NOTIFY_ASSIGNEE".into(),
        }),
        ComplaintEvent::AssignmentReverted(ComplaintAssignmentReverted {
            agent_id: agent("ghost"),
            reason: reason("unknown agent"),
        }),
    ]
}

fn metadata() -> Metadata {
    Metadata::new("complaint-service", "req-1".into(), t0())
}

#[test]
fn every_complaint_event_round_trips_through_envelope_json() {
    let events = one_of_each();
    let types: Vec<EventType> = events.iter().map(ComplaintEvent::event_type).collect();
    let complaint_types: Vec<EventType> = EventType::ALL
        .iter()
        .copied()
        .filter(|t| t.is_complaint_event())
        .collect();
    assert_eq!(types, complaint_types, "one of each, in catalogue order");

    for event in events {
        let envelope = event.to_envelope(ID, metadata());
        assert_eq!(envelope.aggregate_type, AGGREGATE_TYPE);
        assert_eq!(envelope.aggregate_id, ID);
        assert_eq!(envelope.exchange(), Some(exchanges::COMPLAINTS));
        let wire = serde_json::to_string(&envelope).unwrap();
        let decoded: Envelope = serde_json::from_str(&wire).unwrap();
        assert_eq!(decoded, envelope);
        assert_eq!(
            ComplaintEvent::from_envelope(&decoded).unwrap(),
            Some(event)
        );
    }
}

/// `COMPLAINT_CREATED` as schema version 2 writes it: the contact is an object.
fn created_v2() -> Value {
    json!({
        "title": "Invoice charged twice",
        "description": "May's invoice was debited twice.",
        "category": "billing",
        "priority": "MEDIUM",
        "customer": { "id": "customer-42", "name": "Ada Lovelace",
                      "contact": { "email": "ada@example.com" } },
        "slaDeadline": "2024-05-04T10:00:00Z"
    })
}

/// The same event as schema version 1 wrote it, before the contact was an object.
fn created_v1() -> Value {
    let mut data = created_v2();
    data["customer"] = json!({
        "id": "customer-42", "name": "Ada Lovelace", "email": "ada@example.com"
    });
    data
}

#[test]
fn created_data_reads_as_documented() {
    let event = ComplaintEvent::from_parts("COMPLAINT_CREATED", 2, &created_v2()).unwrap();
    assert_eq!(event, Some(created()));
    assert_eq!(created().to_data(), created_v2());
}

#[test]
fn new_envelopes_carry_the_latest_schema_version() {
    let envelope = created().to_envelope(ID, metadata());
    assert_eq!(envelope.metadata.schema_version, 2);
    assert_eq!(envelope.event_data, created_v2());
    let envelope = assigned("a1").to_envelope(ID, metadata());
    assert_eq!(envelope.metadata.schema_version, 1);
}

#[test]
fn created_data_of_schema_version_1_reads_as_the_same_event() {
    let event = ComplaintEvent::from_parts("COMPLAINT_CREATED", 1, &created_v1()).unwrap();
    assert_eq!(event, Some(created()));
    // Version 1 data claimed as version 2 is not half-read: the contact is missing.
    assert!(ComplaintEvent::from_parts("COMPLAINT_CREATED", 2, &created_v1()).is_err());
}

#[test]
fn a_history_in_schema_version_1_folds_into_the_same_complaint_as_in_version_2() {
    let v2 = vec![
        created().to_envelope(ID, metadata()),
        assigned("a1").to_envelope(ID, metadata().with_version(2)),
        processed("a1").to_envelope(ID, metadata().with_version(3)),
    ];
    let mut v1 = v2.clone();
    v1[0].event_data = created_v1();
    v1[0].metadata.schema_version = 1;
    let from_v1 = fold_envelopes(ID, &v1).unwrap();
    assert_eq!(from_v1, fold_envelopes(ID, &v2).unwrap());
    assert_eq!(from_v1.customer_email, "ada@example.com");
    assert_eq!(from_v1.status, Status::InProgress);
}

#[test]
fn a_schema_version_from_newer_code_is_refused_not_half_read() {
    let error = ComplaintEvent::from_parts("COMPLAINT_CREATED", 3, &created_v2()).unwrap_err();
    assert!(matches!(error, DecodeError::Version(_)));
    assert_eq!(
        error.to_string(),
        "COMPLAINT_CREATED schema version 3 is unknown to this reader (it reads versions 1 to 2)"
    );
    assert!(ComplaintEvent::from_parts("COMPLAINT_CLOSED", 2, &json!({})).is_err());
    // Not a complaint event: not ours to judge.
    assert_eq!(
        ComplaintEvent::from_parts("SAGA_STARTED", 9, &json!({})).unwrap(),
        None
    );
}

#[test]
fn event_data_uses_camel_case_and_omits_what_is_absent() {
    let data: Vec<Value> = one_of_each().iter().map(ComplaintEvent::to_data).collect();
    assert_eq!(data[1], json!({ "agentId": "a2", "previousAgentId": "a1" }));
    assert_eq!(data[2], json!({ "agentId": "a1" }));
    assert_eq!(data[4], json!({}));
    assert_eq!(
        data[5],
        json!({ "reason": "Still broken.", "slaDeadline": "2024-05-04T10:00:00Z" })
    );
    assert_eq!(
        data[7],
        json!({ "from": "HIGH", "to": "CRITICAL", "escalationLevel": 2,
                "slaDeadline": "2024-05-02T16:00:00Z" })
    );
    assert_eq!(
        data[8],
        json!({ "agentId": "ghost", "reason": "unknown agent", "failedStep": "NOTIFY_ASSIGNEE" })
    );
}

#[test]
fn other_and_unknown_types_are_not_complaint_events() {
    let data = json!({ "anything": true });
    for name in [
        "NOTIFICATION_SENT",
        "SAGA_STARTED",
        "COMPLAINT_ARCHIVED",
        "",
    ] {
        assert!(
            ComplaintEvent::from_parts(name, 1, &data)
                .unwrap()
                .is_none(),
            "{name}"
        );
    }
}

#[test]
fn complaint_data_of_the_wrong_shape_is_a_decode_error() {
    let error =
        ComplaintEvent::from_parts("COMPLAINT_ASSIGNED", 1, &json!({ "agent": "a1" })).unwrap_err();
    assert!(matches!(
        error,
        DecodeError::Invalid {
            event_type: EventType::ComplaintAssigned,
            ..
        }
    ));
    assert!(
        error
            .to_string()
            .starts_with("invalid COMPLAINT_ASSIGNED data"),
        "{error}"
    );

    let invalid_value = json!({ "agentId": "two words" });
    assert!(ComplaintEvent::from_parts("COMPLAINT_ASSIGNED", 1, &invalid_value).is_err());
}

#[test]
fn a_stream_of_envelopes_folds_with_the_domains_rule_for_types_it_does_not_know() {
    let mut archived = created().to_envelope(ID, metadata().with_version(3));
    archived.event_type = "COMPLAINT_ARCHIVED".into();
    archived.metadata.timestamp = days(9);
    let mut envelopes = vec![
        created().to_envelope(ID, metadata()),
        assigned("a1").to_envelope(ID, metadata().with_version(2)),
        archived,
    ];
    envelopes[1].metadata.timestamp = hours(1);

    let state = fold_envelopes(ID, &envelopes).unwrap();
    assert_eq!(state.version, 3, "the unknown event counts for the version");
    assert_eq!(state.status, Status::Assigned);
    assert_eq!(state.updated_at, Some(hours(1)), "and changes nothing else");

    let mut broken = envelopes.clone();
    broken[1].event_data = json!({});
    assert!(fold_envelopes(ID, &broken).is_err());
}

#[test]
fn the_state_serializes_for_an_api() {
    let state = given(&[created(), assigned("a1")]);
    let json = serde_json::to_value(&state).unwrap();
    assert_eq!(json["status"], "ASSIGNED");
    assert_eq!(json["assignee"], "a1");
    assert_eq!(json["slaDeadline"], "2024-05-04T10:00:00Z");
    assert_eq!(json["version"], 2);
    let back: Complaint = serde_json::from_value(json).unwrap();
    assert_eq!(back, state);
}
