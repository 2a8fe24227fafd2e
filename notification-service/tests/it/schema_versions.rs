//! Events of every schema version the catalogue has known are read through the upcasters;
//! a version from newer code is dead-lettered with the reason, not half-read.

use crate::{
    complaints::ComplaintScript,
    harness::{spawn_app, WAIT},
};
use serde_json::{json, Value};
use shared::{event::Envelope, test_support::eventually};

/// `created` as the code before schema version 2 published it: the e-mail directly in
/// `customer`, and no `schemaVersion` (which means 1).
fn as_version_1(created: &Envelope) -> Envelope {
    let mut wire = serde_json::to_value(created).unwrap();
    let email = wire["eventData"]["customer"]["contact"]["email"].clone();
    let customer = wire["eventData"]["customer"].as_object_mut().unwrap();
    customer.remove("contact");
    customer.insert("email".into(), email);
    wire["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("schemaVersion");
    serde_json::from_value(wire).unwrap()
}

#[tokio::test]
async fn a_complaint_created_in_schema_version_1_is_acknowledged_like_one_in_version_2() {
    let app = spawn_app().await;
    let (old, created) = ComplaintScript::create("Old invoice", "grace@example.com");
    let (new, created_now) = ComplaintScript::create("New invoice", "alan@example.com");
    assert_eq!(created_now.metadata.schema_version, 2);
    let created_then = as_version_1(&created);
    assert_eq!(created_then.metadata.schema_version, 1);

    app.publish(&created_then).await;
    app.publish(&created_now).await;

    for (complaint, address) in [(&old, "grace@example.com"), (&new, "alan@example.com")] {
        let sent = app
            .wait_for_notification("the acknowledgement", &complaint.id, |n| {
                n["status"] == "SENT"
            })
            .await;
        assert_eq!(sent["recipient"], address);
        assert_eq!(sent["step"], "acknowledgement");
        assert_eq!(app.smtp.wait_for(1, address).await.len(), 1);
    }
    app.stop().await;
}

#[tokio::test]
async fn a_schema_version_this_build_does_not_know_is_dead_lettered_with_the_reason() {
    let app = spawn_app().await;
    let (complaint, mut created) = ComplaintScript::create("From the future", "ada@example.com");
    created.metadata.schema_version = 3;

    app.publish(&created).await;

    let dead: Vec<Value> = eventually("the event in the DLQ", WAIT, || async {
        let (_, body) = app
            .get("/admin/dead-letters/notification-service.complaint-events")
            .await;
        let list = body.as_array().cloned().unwrap_or_default();
        (!list.is_empty()).then_some(list)
    })
    .await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0]["body"]["eventId"], json!(created.event_id));
    let reason = dead[0]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("COMPLAINT_CREATED schema version 3 is unknown to this reader"),
        "{dead:?}"
    );
    assert!(app.history(&complaint.id).await.is_empty(), "not half-read");
    assert!(app.smtp.received_by("ada@example.com").is_empty());
    app.stop().await;
}
