//! Listing with filters and cursor pagination, and statistics — all from the read model.

use crate::harness::{spawn_app, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashSet;

#[tokio::test]
async fn pagination_walks_every_complaint_once_newest_first() {
    let app = spawn_app().await;
    let mut created = Vec::new();
    for n in 0..23 {
        created.push(app.created(n).await);
    }
    app.settled().await;

    let items = app.list_all("", 5).await;
    let ids: Vec<String> = items
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 23);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 23, "no repeats");
    created.reverse();
    assert_eq!(ids, created, "newest first");
    let first_page = app.get("/api/complaints?limit=5").await;
    assert_eq!(first_page.body["items"].as_array().unwrap().len(), 5);
    let last_page = app.list_all("", 23).await;
    assert_eq!(last_page.len(), 23);
    let default_page = app.get("/api/complaints").await;
    assert_eq!(default_page.body["items"].as_array().unwrap().len(), 20);
    app.stop().await;
}

async fn complaint(
    app: &TestApp,
    title: &str,
    category: &str,
    priority: &str,
    customer: &str,
) -> String {
    let reply = app
        .create(json!({
            "title": title, "description": "Details of the problem.", "category": category,
            "priority": priority,
            "customer": { "id": customer, "name": "Ada", "email": "ada@example.com" }
        }))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.id()
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

#[tokio::test]
async fn filters_combine_and_find_what_they_say() {
    let app = spawn_app().await;
    let parcel = complaint(&app, "Parcel never arrived", "delivery", "HIGH", "c-1").await;
    let invoice = complaint(&app, "Invoice charged twice", "billing", "LOW", "c-2").await;
    let refund = complaint(&app, "Refund still missing", "billing", "CRITICAL", "c-1").await;
    app.ok(&invoice, "assign", json!({ "agentId": "agent-1" }))
        .await;
    app.ok(&refund, "assign", json!({ "agentId": "agent-2" }))
        .await;
    app.ok(&refund, "process", Value::Null).await;
    app.settled().await;
    let now = chrono::Utc::now();

    assert_eq!(app.ids("&status=OPEN").await, [parcel.as_str()]);
    assert_eq!(
        sorted(app.ids("&status=assigned,IN_PROGRESS").await),
        sorted(vec![invoice.clone(), refund.clone()])
    );
    assert_eq!(app.ids("&priority=CRITICAL").await, [refund.as_str()]);
    assert_eq!(
        sorted(app.ids("&category=Billing").await),
        sorted(vec![invoice.clone(), refund.clone()])
    );
    assert_eq!(app.ids("&assignee=agent-1").await, [invoice.as_str()]);
    assert_eq!(
        sorted(app.ids("&customer=c-1").await),
        sorted(vec![parcel.clone(), refund.clone()])
    );
    assert_eq!(
        app.ids("&customer=c-1&category=billing").await,
        [refund.as_str()]
    );
    assert_eq!(
        app.ids("&q=charg").await,
        [invoice.as_str()],
        "a word prefix"
    );
    assert_eq!(
        app.ids("&q=PARCEL%20arrived").await,
        [parcel.as_str()],
        "every word"
    );
    assert!(app.ids("&q=unicorn").await.is_empty());
    let past =
        (now - chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let future =
        (now + chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(
        app.ids(&format!("&createdFrom={past}&createdTo={future}"))
            .await
            .len(),
        3
    );
    assert!(app.ids(&format!("&createdFrom={future}")).await.is_empty());
    assert!(app.ids(&format!("&createdTo={past}")).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn statistics_count_by_status_and_priority_and_time_resolution() {
    let app = spawn_app().await;
    let a = complaint(&app, "First problem", "billing", "HIGH", "c-1").await;
    complaint(&app, "Second problem", "billing", "LOW", "c-1").await;
    app.ok(&a, "assign", json!({ "agentId": "agent-1" })).await;
    app.ok(&a, "process", Value::Null).await;
    app.ok(&a, "resolve", json!({ "resolution": "Done" })).await;
    app.settled().await;

    let statistics = app.get("/api/complaints/statistics").await.body;
    assert_eq!(statistics["total"], 2);
    assert_eq!(statistics["byStatus"]["OPEN"], 1);
    assert_eq!(statistics["byStatus"]["RESOLVED"], 1);
    assert_eq!(statistics["byStatus"]["CLOSED"], 0);
    assert_eq!(statistics["byPriority"]["HIGH"], 1);
    assert_eq!(statistics["byPriority"]["LOW"], 1);
    assert_eq!(statistics["byPriority"]["CRITICAL"], 0);
    assert_eq!(statistics["resolved"], 1);
    let mean = statistics["meanTimeToResolutionSeconds"].as_f64().unwrap();
    assert!(mean > 0.0 && mean < 60.0, "{mean}");
    assert_eq!(statistics["overdue"], 0);
    app.stop().await;
}

#[tokio::test]
async fn the_openapi_document_covers_every_route() {
    let app = spawn_app().await;
    let doc = app.get("/api-docs/openapi.json").await.body;
    let paths = doc["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/api/complaints", &["get", "post"][..]),
        ("/api/complaints/{id}", &["get"]),
        ("/api/complaints/statistics", &["get"]),
        ("/api/complaints/{id}/assign", &["put", "patch"]),
        ("/api/complaints/{id}/process", &["put", "patch"]),
        ("/api/complaints/{id}/resolve", &["put", "patch"]),
        ("/api/complaints/{id}/close", &["put", "patch"]),
        ("/api/complaints/{id}/reopen", &["put", "patch"]),
        ("/api/complaints/{id}/priority", &["put", "patch"]),
        ("/api/admin/projections", &["get"]),
        ("/api/admin/projections/rebuild", &["post"]),
    ] {
        for method in methods {
            assert!(paths[path][method].is_object(), "{method} {path}");
        }
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for schema in [
        "CreateComplaintRequest",
        "CommandResult",
        "ComplaintDetails",
        "ComplaintPage",
        "Statistics",
        "ErrorBody",
    ] {
        assert!(schemas.contains_key(schema), "schema {schema}");
    }
    assert_eq!(schemas["ComplaintTitle"]["maxLength"], 200);
    app.stop().await;
}
