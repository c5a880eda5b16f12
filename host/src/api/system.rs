//! `/system/*`: liveness and facts about the host.

use axum::Json;
use serde::Serialize;

/// `GET /system/health` body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always "ok" when the host answers.
    status: &'static str,
    /// Host version.
    version: &'static str,
}

/// `GET /api/v1/system/health`: answers as soon as the host serves requests. No auth.
#[utoipa::path(
    get,
    path = "/system/health",
    tag = "system",
    security(()),
    responses((status = 200, description = "The host is up", body = Health))
)]
pub async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}
