//! The `agents` table: the directory, upserted from the seed at startup.

use super::corrupt;
use crate::{agents::Agent, model::Role};
use sqlx::{PgConnection, PgPool};

#[derive(sqlx::FromRow)]
struct AgentRow {
    id: String,
    name: String,
    email: String,
    role: String,
    active: bool,
}

impl TryFrom<AgentRow> for Agent {
    type Error = sqlx::Error;

    fn try_from(row: AgentRow) -> Result<Self, Self::Error> {
        Ok(Agent {
            id: row.id,
            name: row.name,
            email: row.email,
            role: row.role.parse().map_err(corrupt)?,
            active: row.active,
        })
    }
}

const COLUMNS: &str = "id, name, email, role, active";

/// Inserts or updates every agent of `agents` in one statement; others are left as they are.
pub async fn upsert_all(pool: &PgPool, agents: &[Agent]) -> Result<u64, sqlx::Error> {
    let ids: Vec<&str> = agents.iter().map(|a| a.id.as_str()).collect();
    let names: Vec<&str> = agents.iter().map(|a| a.name.as_str()).collect();
    let emails: Vec<&str> = agents.iter().map(|a| a.email.as_str()).collect();
    let roles: Vec<&str> = agents.iter().map(|a| a.role.as_str()).collect();
    let active: Vec<bool> = agents.iter().map(|a| a.active).collect();
    let done = sqlx::query(
        "INSERT INTO agents (id, name, email, role, active)
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::bool[])
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email,
             role = EXCLUDED.role, active = EXCLUDED.active, updated_at = now()",
    )
    .bind(&ids)
    .bind(&names)
    .bind(&emails)
    .bind(&roles)
    .bind(&active)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// The directory, by id, optionally only one role and/or only (in)active agents.
pub async fn list(
    pool: &PgPool,
    role: Option<Role>,
    active: Option<bool>,
) -> Result<Vec<Agent>, sqlx::Error> {
    sqlx::query_as::<_, AgentRow>(&format!(
        "SELECT {COLUMNS} FROM agents
         WHERE ($1::text IS NULL OR role = $1) AND ($2::bool IS NULL OR active = $2)
         ORDER BY id"
    ))
    .bind(role.map(Role::as_str))
    .bind(active)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(Agent::try_from)
    .collect()
}

pub async fn get(conn: &mut PgConnection, id: &str) -> Result<Option<Agent>, sqlx::Error> {
    sqlx::query_as::<_, AgentRow>(&format!("SELECT {COLUMNS} FROM agents WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .map(Agent::try_from)
        .transpose()
}

/// The directory entries of `ids` that exist, in one statement.
pub async fn get_all(conn: &mut PgConnection, ids: &[String]) -> Result<Vec<Agent>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_as::<_, AgentRow>(&format!(
        "SELECT {COLUMNS} FROM agents WHERE id = ANY($1) ORDER BY id"
    ))
    .bind(ids)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(Agent::try_from)
    .collect()
}

/// The active supervisors, by id.
pub async fn active_supervisors(conn: &mut PgConnection) -> Result<Vec<Agent>, sqlx::Error> {
    sqlx::query_as::<_, AgentRow>(&format!(
        "SELECT {COLUMNS} FROM agents WHERE role = $1 AND active ORDER BY id"
    ))
    .bind(Role::Supervisor.as_str())
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(Agent::try_from)
    .collect()
}
