//! The agent directory: who can be assigned a complaint and how to reach them. Loaded from a
//! seed file (a JSON array) at startup; parsing and checking the seed is pure.

use crate::model::Role;
use serde::{Deserialize, Serialize};
use shared::complaint::{AgentId, Email};
use std::collections::HashSet;
use utoipa::ToSchema;

/// The seed shipped with the service, used when the configured seed file is the default one
/// and is absent (a binary run outside the repository).
pub const EMBEDDED_SEED: &str = include_str!("../seed/agents.json");

/// One support agent or supervisor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Agent {
    #[schema(example = "agent-001")]
    pub id: String,
    #[schema(example = "Alice Martin")]
    pub name: String,
    #[schema(example = "alice.martin@support.example.com")]
    pub email: String,
    pub role: Role,
    /// Inactive agents stay listed but are never notified (an assignment to one fails).
    pub active: bool,
}

/// One entry of the seed file, before it is checked.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SeedEntry {
    id: String,
    name: String,
    email: String,
    role: Role,
    #[serde(default = "active_by_default")]
    active: bool,
}

const fn active_by_default() -> bool {
    true
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SeedError {
    #[error("the agent seed is not a JSON array of agents: {0}")]
    Format(String),
    #[error("agent seed entry {index}: {message}")]
    Invalid { index: usize, message: String },
    #[error("agent seed: id {0:?} appears more than once")]
    DuplicateId(String),
}

/// The agents of a seed file, checked: valid ids and e-mail addresses, a name, unique ids.
pub fn parse_seed(text: &str) -> Result<Vec<Agent>, SeedError> {
    let entries: Vec<SeedEntry> =
        serde_json::from_str(text).map_err(|e| SeedError::Format(e.to_string()))?;
    let mut seen = HashSet::new();
    entries
        .into_iter()
        .enumerate()
        .map(|(index, entry)| {
            let invalid = |message: String| SeedError::Invalid { index, message };
            let id = AgentId::parse(entry.id).map_err(|e| invalid(e.to_string()))?;
            let email = Email::parse(entry.email).map_err(|e| invalid(e.to_string()))?;
            let name = entry.name.trim().to_owned();
            if name.is_empty() {
                return Err(invalid("name: must not be empty".to_owned()));
            }
            if !seen.insert(id.to_string()) {
                return Err(SeedError::DuplicateId(id.into_inner()));
            }
            Ok(Agent {
                id: id.into_inner(),
                name,
                email: email.into_inner(),
                role: entry.role,
                active: entry.active,
            })
        })
        .collect()
}

impl Agent {
    /// Whether notifications may be sent to this agent.
    pub fn reachable(&self) -> bool {
        self.active
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_seed_is_valid_and_has_supervisors() {
        let agents = parse_seed(EMBEDDED_SEED).unwrap();
        assert!(agents
            .iter()
            .any(|a| a.role == Role::Supervisor && a.active));
        assert!(agents.iter().any(|a| a.role == Role::Agent && a.active));
    }

    #[test]
    fn active_defaults_to_true() {
        let agents =
            parse_seed(r#"[{"id":"a-1","name":"Ann","email":"ann@example.com","role":"AGENT"}]"#)
                .unwrap();
        assert!(agents[0].active);
    }

    #[test]
    fn a_bad_address_names_the_entry() {
        let error =
            parse_seed(r#"[{"id":"a-1","name":"Ann","email":"not-an-address","role":"AGENT"}]"#)
                .unwrap_err();
        assert!(
            matches!(error, SeedError::Invalid { index: 0, .. }),
            "{error}"
        );
    }

    #[test]
    fn duplicate_ids_and_unknown_roles_are_refused() {
        let twice = r#"[{"id":"a","name":"A","email":"a@example.com","role":"AGENT"},
                        {"id":"a","name":"B","email":"b@example.com","role":"AGENT"}]"#;
        assert_eq!(parse_seed(twice), Err(SeedError::DuplicateId("a".into())));
        let king = r#"[{"id":"a","name":"A","email":"a@example.com","role":"KING"}]"#;
        assert!(matches!(parse_seed(king), Err(SeedError::Format(_))));
    }
}
