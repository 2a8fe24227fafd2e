//! Driving a history through complaint-service's HTTP API, as a client would, and keeping
//! what each command was answered: the transcript a failure prints, and what the views are
//! later checked against.

use super::history::{Action, Agent, History, Priority, Step};
use crate::{
    api::{complaints::new_complaint, Reply},
    suite::Suite,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::fmt;

/// An id notification-service's directory does not have: the assignment saga compensates it.
const UNKNOWN_AGENT: &str = "agent-does-not-exist";

/// A complaint the history filed.
#[derive(Debug)]
pub struct Filed {
    pub id: String,
    /// The version the client last saw acknowledged: what it sends as `If-Match`.
    pub seen_version: i64,
    /// The status the client last saw (what [`Action::Next`] follows).
    pub seen_status: String,
    /// Each accepted command (the create first): the version its reply gave, and the event
    /// it recorded.
    pub accepted: Vec<(i64, &'static str)>,
}

impl Filed {
    /// How many assignments were accepted: each starts an assignment saga.
    pub fn assignments(&self) -> usize {
        self.accepted
            .iter()
            .filter(|(_, event_type)| *event_type == "COMPLAINT_ASSIGNED")
            .count()
    }
}

#[derive(Debug, Default)]
pub struct Transcript {
    pub complaints: Vec<Filed>,
    lines: Vec<String>,
}

/// What was sent and answered, one line per command.
impl fmt::Display for Transcript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "transcript:")?;
        for line in &self.lines {
            writeln!(f, "  {line}")?;
        }
        for (n, filed) in self.complaints.iter().enumerate() {
            writeln!(f, "  complaint {n} is {}", filed.id)?;
        }
        Ok(())
    }
}

/// Sends every step of `history`; `agents` are active agents of the directory.
pub async fn drive(suite: &Suite, agents: &[String], history: &History, out: &mut Transcript) {
    create(suite, history.first, out).await;
    for (n, step) in history.steps.iter().enumerate() {
        let n = n + 1;
        match *step {
            Step::Create(priority) => create(suite, priority, out).await,
            Step::Command { complaint, action } => {
                let c = complaint % out.complaints.len();
                let id = out.complaints[c].id.clone();
                let action = action.chosen(&out.complaints[c].seen_status);
                let reply = send(suite, &id, action, agents, None).await;
                record(out, n, c, action, "", &reply);
            }
            Step::Race {
                complaint,
                first,
                second,
                if_match,
            } => {
                let c = complaint % out.complaints.len();
                let id = out.complaints[c].id.clone();
                let first = first.chosen(&out.complaints[c].seen_status);
                let second = second.chosen(&out.complaints[c].seen_status);
                let expected = if_match.then(|| format!("\"{}\"", out.complaints[c].seen_version));
                let (a, b) = tokio::join!(
                    send(suite, &id, first, agents, expected.as_deref()),
                    send(suite, &id, second, agents, expected.as_deref()),
                );
                let how = match &expected {
                    Some(version) => format!(" (racing, If-Match {version})"),
                    None => " (racing)".to_owned(),
                };
                record(out, n, c, first, &how, &a);
                record(out, n, c, second, &how, &b);
                if expected.is_some() {
                    assert!(
                        !(a.status.is_success() && b.status.is_success()),
                        "step {n}: both commands sent with the same If-Match were accepted"
                    );
                }
            }
        }
    }
}

async fn create(suite: &Suite, priority: Priority, out: &mut Transcript) {
    let n = out.complaints.len();
    let body = new_complaint(
        &format!("Property history complaint {n}"),
        priority.as_str(),
    );
    let reply = suite
        .call(
            &suite.complaints,
            Method::POST,
            "/api/complaints",
            &[],
            Some(body),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "create: {}", reply.body);
    let id = reply.body["id"].as_str().expect("an id").to_owned();
    out.lines.push(format!(
        "complaint {n}: create {} -> 201 v1",
        priority.as_str()
    ));
    out.complaints.push(Filed {
        id,
        seen_version: 1,
        seen_status: "OPEN".to_owned(),
        accepted: vec![(1, "COMPLAINT_CREATED")],
    });
}

async fn send(
    suite: &Suite,
    id: &str,
    action: Action,
    agents: &[String],
    if_match: Option<&str>,
) -> Reply {
    let headers: Vec<(&str, &str)> = if_match.map(|v| ("if-match", v)).into_iter().collect();
    suite
        .call(
            &suite.complaints,
            Method::PUT,
            &format!("/api/complaints/{id}/{}", action.route()),
            &headers,
            Some(body_of(action, agents)),
        )
        .await
}

fn body_of(action: Action, agents: &[String]) -> Value {
    match action {
        Action::Assign(Agent::Known(n)) => json!({ "agentId": agents[n % agents.len()] }),
        Action::Assign(Agent::Unknown) => json!({ "agentId": UNKNOWN_AGENT }),
        Action::Next => unreachable!("the next step is chosen before it is sent"),
        Action::Process | Action::Close => json!({}),
        Action::Resolve => json!({ "resolution": "Refunded the second debit" }),
        Action::Reopen => json!({ "reason": "It happened again" }),
        Action::ChangePriority(priority) => {
            json!({ "priority": priority.as_str(), "reason": "Re-triaged" })
        }
    }
}

/// Notes the answer; a command is either accepted or refused with 409 and a code, never
/// anything else.
fn record(out: &mut Transcript, step: usize, c: usize, action: Action, how: &str, reply: &Reply) {
    let filed = &mut out.complaints[c];
    let what = format!("step {step}: complaint {c}: {action:?}{how}");
    match reply.status {
        StatusCode::OK => {
            let version = reply.body["version"].as_i64().expect("a version");
            filed.accepted.push((version, action.event_type()));
            if version > filed.seen_version {
                filed.seen_version = version;
                filed.seen_status = reply.body["status"].as_str().expect("a status").to_owned();
            }
            out.lines.push(format!("{what} -> 200 v{version}"));
        }
        StatusCode::CONFLICT => {
            let code = reply.body["error"]["code"].as_str().unwrap_or_default();
            out.lines.push(format!("{what} -> 409 {code}"));
            assert!(
                !code.is_empty(),
                "{what}: a 409 without a code: {}",
                reply.body
            );
        }
        other => panic!("{what}: answered {other}: {}", reply.body),
    }
}
