//! `GET /api/agents`, `GET /api/agents/{id}`: the agent directory, so clients can pick a
//! valid assignee.

use super::{error::Error, AppState};
use crate::{agents::Agent, model::Role, store};
use axum::extract::State;
use serde::{Deserialize, Serialize};
use shared::http::{ErrorBody, Json, Path, Query};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AgentFilter {
    /// Only agents of this role.
    role: Option<Role>,
    /// Only active (`true`) or inactive (`false`) agents.
    active: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct AgentList {
    pub items: Vec<Agent>,
}

/// The agent directory, by id.
#[utoipa::path(get, path = "/api/agents", tag = "agents", params(AgentFilter), responses(
    (status = 200, body = AgentList),
    (status = 400, description = "An unknown parameter or value", body = ErrorBody),
))]
pub async fn list(
    State(state): State<AppState>,
    Query(filter): Query<AgentFilter>,
) -> Result<Json<AgentList>, Error> {
    let items = store::agents::list(&state.pool, filter.role, filter.active).await?;
    Ok(Json(AgentList { items }))
}

/// One agent of the directory.
#[utoipa::path(get, path = "/api/agents/{id}", tag = "agents",
    params(("id" = String, Path, description = "The agent's id", example = "agent-001")),
    responses(
        (status = 200, body = Agent),
        (status = 404, body = ErrorBody),
    ))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Agent>, Error> {
    let mut conn = state.pool.acquire().await?;
    store::agents::get(&mut conn, &id)
        .await?
        .map(Json)
        .ok_or(Error::NotFound { what: "agent", id })
}
