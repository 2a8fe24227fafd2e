//! The notification API: the agent directory and the delivery history.

mod access;
mod agents;
mod error;
mod notifications;

use crate::{
    events::{NotificationCompensation, NotificationOutcome},
    model::{Audience, Channel, NotificationStatus, Role, Step},
};
use axum::{routing::get, Router};
use sqlx::PgPool;
use utoipa::OpenApi;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "notification-service",
        description = "Notifications for complaint events, with delivery history and the agent directory. \
            Publishes NOTIFICATION_SENT / NOTIFICATION_FAILED (data: NotificationOutcome) and \
            NOTIFICATION_COMPENSATION (data: NotificationCompensation) on notifications.events."
    ),
    paths(agents::list, agents::get, notifications::list, notifications::get),
    components(schemas(
        crate::agents::Agent,
        agents::AgentList,
        notifications::NotificationView,
        notifications::NotificationList,
        Role,
        Step,
        Audience,
        Channel,
        NotificationStatus,
        NotificationOutcome,
        NotificationCompensation,
        shared::http::ErrorBody,
    )),
    tags(
        (name = "agents", description = "The agent directory"),
        (name = "notifications", description = "The delivery history"),
    )
)]
struct ApiDoc;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/agents", get(agents::list))
        .route("/api/agents/{id}", get(agents::get))
        .route("/api/notifications", get(notifications::list))
        .route("/api/notifications/{id}", get(notifications::get))
        .with_state(state)
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub use access::ACCESS;
