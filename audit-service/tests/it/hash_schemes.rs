//! The switch of canonical form: a trail begun under the first hash scheme keeps verifying
//! once new entries are hashed over RFC 8785 (JCS), and each entry says which it used.

use crate::{
    events::{correlation, event},
    harness::{spawn_app, TestApp},
};
use audit_service::{
    chain::{self, HashScheme},
    entry::EntryContent,
};
use serde_json::json;
use shared::event::EventType;
use uuid::Uuid;

/// Appends an entry the way the previous version of the service wrote them: content hashed
/// over the first scheme's canonical form, no scheme named (the column's default was 1).
async fn append_as_the_previous_version(app: &TestApp, payload: serde_json::Value) -> i64 {
    let mut tx = app.pool.begin().await.expect("a transaction");
    let (previous, entries): (Vec<u8>, i64) =
        sqlx::query_as("SELECT chain_hash, entries FROM audit_chain_head FOR UPDATE")
            .fetch_one(&mut *tx)
            .await
            .expect("the chain head");
    let (sequence,): (i64,) =
        sqlx::query_as("SELECT nextval(pg_get_serial_sequence('audit_entries', 'sequence'))")
            .fetch_one(&mut *tx)
            .await
            .expect("a sequence");
    let at = chrono::Utc::now();
    let content = EntryContent {
        sequence,
        event_id: Uuid::new_v4(),
        event_type: "COMPLAINT_PRIORITY_CHANGED".into(),
        aggregate_type: "Complaint".into(),
        aggregate_id: "c-legacy".into(),
        aggregate_version: sequence + 1,
        actor: Some("agent-7".into()),
        service: "complaint-service".into(),
        correlation_id: "legacy".into(),
        causation_id: None,
        occurred_at: audit_service::entry::to_micros(at),
        recorded_at: audit_service::entry::to_micros(at),
        payload,
    };
    let content_hash = chain::content_hash(&content, HashScheme::Legacy);
    let chain_hash = chain::chain_hash(
        &chain::digest_of(&previous).expect("a digest"),
        &content_hash,
    );
    sqlx::query(
        "INSERT INTO audit_entries (sequence, event_id, event_type, aggregate_type, aggregate_id,
             aggregate_version, actor, service, correlation_id, causation_id, occurred_at,
             recorded_at, payload, content_hash, chain_hash, hash_scheme)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1)",
    )
    .bind(content.sequence)
    .bind(content.event_id)
    .bind(&content.event_type)
    .bind(&content.aggregate_type)
    .bind(&content.aggregate_id)
    .bind(content.aggregate_version)
    .bind(&content.actor)
    .bind(&content.service)
    .bind(&content.correlation_id)
    .bind(&content.causation_id)
    .bind(content.occurred_at)
    .bind(content.recorded_at)
    .bind(&content.payload)
    .bind(content_hash.to_vec())
    .bind(chain_hash.to_vec())
    .execute(&mut *tx)
    .await
    .expect("the legacy entry");
    sqlx::query("UPDATE audit_chain_head SET last_sequence = $1, chain_hash = $2, entries = $3")
        .bind(sequence)
        .bind(chain_hash.to_vec())
        .bind(entries + 1)
        .execute(&mut *tx)
        .await
        .expect("the new head");
    tx.commit().await.expect("commit");
    sequence
}

#[tokio::test]
async fn a_trail_begun_under_the_first_scheme_still_verifies_after_the_switch_to_jcs() {
    let app = spawn_app().await;
    // Decimal amounts are where the two forms differ (`12.0` against `12`).
    append_as_the_previous_version(&app, json!({ "from": "LOW", "to": "HIGH", "amount": 12.0 }))
        .await;
    append_as_the_previous_version(&app, json!({ "ratio": 0.5, "n": 1 })).await;

    let corr = correlation();
    let events: Vec<_> = (0..2)
        .map(|n| {
            event(EventType::ComplaintPriorityChanged, "c-new", &corr)
                .version(n + 2)
                .data(json!({ "from": "LOW", "to": "HIGH", "amount": 12.0 }))
                .build()
        })
        .collect();
    app.publish(&events).await;
    app.recorded(&corr, 2).await;

    let verification = app.verify().await;
    assert_eq!(verification["valid"], true, "{verification}");
    assert_eq!(verification["checked"], 4);

    let legacy = app.trail("c-legacy").await;
    let current = app.trail("c-new").await;
    assert!(legacy.iter().all(|e| e["hashScheme"] == 1), "{legacy:?}");
    assert!(current.iter().all(|e| e["hashScheme"] == 2), "{current:?}");
    app.stop().await;
}

#[tokio::test]
async fn an_entry_naming_an_unknown_scheme_is_reported_not_skipped() {
    let app = spawn_app().await;
    let sequence = append_as_the_previous_version(&app, json!({ "n": 1 })).await;
    app.tamper(&format!(
        "UPDATE audit_entries SET hash_scheme = 9 WHERE sequence = {sequence}"
    ))
    .await;
    let verification = app.verify().await;
    assert_eq!(verification["valid"], false, "{verification}");
    assert_eq!(verification["firstBrokenAt"]["sequence"], sequence);
    assert_eq!(verification["firstBrokenAt"]["kind"], "MALFORMED_HASH");
    app.stop().await;
}
