//! `/servers/{id}/mods`: a server's mod folders, which of them are enabled in what load order,
//! and the Workshop items its game downloads (see [`crate::servers::content`]).
//!
//! Viewers may list; changing needs manage access, like the server's config. A server whose
//! adapter lacks the `mods` capability answers 409 naming it. Every change is saved into the
//! server's settings (checked by the schema and the adapter) and applies at the next start;
//! Workshop items are downloaded by the server's `update` action.

use axum::extract::State;
use serde::Deserialize;

use super::access::{ManagedServer, VisibleServer};
use super::audit::AuditSlot;
use super::extract::{Json, Path};
use super::missions::printable;
use super::servers::authority;
use super::{ApiError, AppState};
use crate::servers::content::mods::Mods;

/// `GET /api/v1/servers/{id}/mods`: the mod folders present and the enabled mods (also
/// those whose folder is missing), the load order and the Workshop items.
#[utoipa::path(
    get,
    path = "/servers/{id}/mods",
    tag = "content",
    params(("id" = i64, Path, description = "Server id")),
    responses(
        (status = 200, description = "The mods", body = Mods),
        (status = 404, description = "No such server the caller may see"),
        (status = 409, description = "The adapter lacks the `mods` capability"),
    )
)]
pub async fn list_mods(
    State(state): State<AppState>,
    VisibleServer { server, .. }: VisibleServer,
) -> Result<Json<Mods>, ApiError> {
    Ok(Json(state.servers.content().mods(&server).await?))
}

/// `PUT /servers/{id}/mods/enabled` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnabledUpdate {
    /// The mods to enable, in load order; each a folder present, named once.
    pub mods: Vec<String>,
}

/// `PUT /api/v1/servers/{id}/mods/enabled`: makes these the enabled mods, in this load
/// order. Applies at the next start. Manage access.
#[utoipa::path(
    put,
    path = "/servers/{id}/mods/enabled",
    tag = "content",
    params(("id" = i64, Path, description = "Server id")),
    request_body = EnabledUpdate,
    responses(
        (status = 200, description = "The mods", body = Mods),
        (status = 403, description = "View access only"),
        (status = 404, description = "No such server the caller may see"),
        (status = 409, description = "The game has no load-order setting, or the adapter \
                                      lacks the `mods` capability"),
        (status = 422, description = "A name is no folder present or is listed twice, or \
                                      the settings check refused, by field"),
    )
)]
pub async fn put_enabled(
    State(state): State<AppState>,
    ManagedServer { caller, server }: ManagedServer,
    audit: AuditSlot,
    Json(update): Json<EnabledUpdate>,
) -> Result<Json<Mods>, ApiError> {
    audit.set_target(format!("server {} mods", server.id));
    Ok(Json(
        state
            .servers
            .content()
            .set_enabled_mods(&server, update.mods, authority(&caller))
            .await?,
    ))
}

/// `POST /api/v1/servers/{id}/mods/{name}/enable`: appends the mod folder `name` to the load
/// order (no change when it is enabled already). Applies at the next start. Manage access.
#[utoipa::path(
    post,
    path = "/servers/{id}/mods/{name}/enable",
    tag = "content",
    params(
        ("id" = i64, Path, description = "Server id"),
        ("name" = String, Path, description = "Mod folder name"),
    ),
    responses(
        (status = 200, description = "The mods", body = Mods),
        (status = 403, description = "View access only"),
        (status = 404, description = "No such server the caller may see, or no such folder"),
        (status = 409, description = "The game has no load-order setting, or the adapter \
                                      lacks the `mods` capability"),
        (status = 422, description = "The settings check refused, by field"),
    )
)]
pub async fn enable_mod(
    State(state): State<AppState>,
    ManagedServer { caller, server }: ManagedServer,
    audit: AuditSlot,
    Path((id, name)): Path<(i64, String)>,
) -> Result<Json<Mods>, ApiError> {
    audit.set_target(format!("server {id} mod {}", printable(&name)));
    Ok(Json(
        state
            .servers
            .content()
            .enable_mod(&server, &name, authority(&caller))
            .await?,
    ))
}

/// `POST /api/v1/servers/{id}/mods/{name}/disable`: takes `name` out of the load order (no
/// change when it is not enabled). Applies at the next start. Manage access.
#[utoipa::path(
    post,
    path = "/servers/{id}/mods/{name}/disable",
    tag = "content",
    params(
        ("id" = i64, Path, description = "Server id"),
        ("name" = String, Path, description = "Mod folder name"),
    ),
    responses(
        (status = 200, description = "The mods", body = Mods),
        (status = 403, description = "View access only"),
        (status = 404, description = "No such server the caller may see, or no such mod"),
        (status = 409, description = "The game has no load-order setting, or the adapter \
                                      lacks the `mods` capability"),
        (status = 422, description = "The settings check refused, by field"),
    )
)]
pub async fn disable_mod(
    State(state): State<AppState>,
    ManagedServer { caller, server }: ManagedServer,
    audit: AuditSlot,
    Path((id, name)): Path<(i64, String)>,
) -> Result<Json<Mods>, ApiError> {
    audit.set_target(format!("server {id} mod {}", printable(&name)));
    Ok(Json(
        state
            .servers
            .content()
            .disable_mod(&server, &name, authority(&caller))
            .await?,
    ))
}

/// `PUT /servers/{id}/mods/workshop` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkshopUpdate {
    /// Steam Workshop item numbers, each once.
    #[schema(value_type = std::collections::BTreeSet<i64>, minimum = 1)]
    pub items: Vec<i64>,
}

/// `PUT /api/v1/servers/{id}/mods/workshop`: replaces the Workshop items the game downloads.
/// Run the server's `update` action to download them (each then appears as a mod folder to
/// enable); applies at the next start. Manage access.
#[utoipa::path(
    put,
    path = "/servers/{id}/mods/workshop",
    tag = "content",
    params(("id" = i64, Path, description = "Server id")),
    request_body = WorkshopUpdate,
    responses(
        (status = 200, description = "The mods", body = Mods),
        (status = 403, description = "View access only"),
        (status = 404, description = "No such server the caller may see"),
        (status = 409, description = "The game takes no Workshop items, or the adapter lacks \
                                      the `mods` capability"),
        (status = 422, description = "An item is 0 or listed twice, or the settings check \
                                      refused, by field"),
    )
)]
pub async fn put_workshop(
    State(state): State<AppState>,
    ManagedServer { caller, server }: ManagedServer,
    audit: AuditSlot,
    Json(update): Json<WorkshopUpdate>,
) -> Result<Json<Mods>, ApiError> {
    audit.set_target(format!("server {} workshop items", server.id));
    let items = update
        .items
        .iter()
        .map(|&item| u64::try_from(item))
        .collect::<Result<Vec<u64>, _>>()
        .map_err(|_| {
            ApiError::validation(vec![super::FieldError {
                field: "items".into(),
                message: "Workshop item numbers are 0 or more".into(),
            }])
        })?;
    Ok(Json(
        state
            .servers
            .content()
            .set_workshop_items(&server, items, authority(&caller))
            .await?,
    ))
}
