//! `GET /api/audit/verify`: walk the hash chain and say whether it is intact.

use super::{params::NoParams, AuditApi};
use crate::{error::AuditError, metrics, verify::Verification};
use axum::extract::State;
use shared::http::{ErrorBody, Json, Query};

/// Walks the whole chain in sequence order, checking each entry's content hash and its link
/// to the entry before, and the end against the chain head. Answers 200 either way: a broken
/// chain is a finding, not an error of the request.
#[utoipa::path(
    get,
    path = "/api/audit/verify",
    tag = "audit",
    responses(
        (status = 200, description = "The outcome of the walk", body = Verification),
        (status = 400, description = "An unknown parameter", body = ErrorBody),
    )
)]
pub async fn verify(
    State(api): State<AuditApi>,
    Query(_no_params): Query<NoParams>,
) -> Result<Json<Verification>, AuditError> {
    let _turn = api.verifying.lock().await;
    match api.store.verify(api.verify_page_size).await {
        Ok(verification) => {
            if let Some(broken) = &verification.first_broken_at {
                tracing::error!(sequence = broken.sequence, kind = ?broken.kind, reason = %broken.reason, "the audit chain is broken");
                metrics::verification("broken");
            } else {
                metrics::verification("valid");
            }
            Ok(Json(verification))
        }
        Err(error) => {
            metrics::verification("error");
            Err(error)
        }
    }
}
