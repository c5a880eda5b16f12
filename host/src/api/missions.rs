//! `/servers/{id}/missions`: a server's mission files (list, upload, delete) and its rotation,
//! wherever its adapter keeps them (see [`crate::servers::content`]).
//!
//! Viewers may list; changing needs manage access, like the server's config. Where the
//! adapter keeps missions in the game's runtime, shared by every server of the game, only
//! administrators change them (403), and a file another server's rotation names is neither
//! replaced nor deleted (409). A server whose
//! adapter lacks the `missions` capability answers 409 naming it. Uploads are the raw request
//! body, streamed to disk under their own size limit (not the API's global one). A changed
//! rotation applies at the next start.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use serde_json::Value;

use super::access::{ManagedServer, VisibleServer};
use super::audit::AuditSlot;
use super::extract::{Json, Path};
use super::servers::authority;
use super::{ApiError, AppState};
use crate::servers::content::missions::{Missions, Uploaded};

/// `GET /api/v1/servers/{id}/missions`: the mission files, the accepted extensions, the
/// upload limit and the rotation (none when the game has no rotation setting).
#[utoipa::path(
    get,
    path = "/servers/{id}/missions",
    tag = "content",
    params(("id" = i64, Path, description = "Server id")),
    responses(
        (status = 200, description = "The missions", body = Missions),
        (status = 404, description = "No such server the caller may see"),
        (status = 409, description = "The adapter lacks the `missions` capability, or the \
                                      missions directory is a link leading outside the game's \
                                      directory"),
    )
)]
pub async fn list_missions(
    State(state): State<AppState>,
    VisibleServer { server, .. }: VisibleServer,
) -> Result<Json<Missions>, ApiError> {
    Ok(Json(state.servers.content().missions(&server).await?))
}

/// `PUT /api/v1/servers/{id}/missions/files/{name}`: stores the request body as the mission
/// file `name`, replacing one of that name (written beside it, then renamed: a reader never
/// sees half a file). The name must be a plain file name (no directories, `..`, NUL, control
/// characters or leading dot, at most 200 bytes) ending with an accepted extension. Manage
/// access.
#[utoipa::path(
    put,
    path = "/servers/{id}/missions/files/{name}",
    tag = "content",
    params(
        ("id" = i64, Path, description = "Server id"),
        ("name" = String, Path, description = "File name, with its extension"),
    ),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
                 description = "The mission file"),
    responses(
        (status = 200, description = "An existing file was replaced", body = Uploaded),
        (status = 201, description = "Stored", body = Uploaded),
        (status = 400, description = "The upload broke off"),
        (status = 403, description = "View access only"),
        (status = 404, description = "No such server the caller may see"),
        (status = 409, description = "The adapter lacks the `missions` capability, or the \
                                      directory or file is a link leading outside the game's \
                                      directory"),
        (status = 413, description = "Larger than the host's upload limit \
                                      (`max_upload_bytes` of the list)"),
        (status = 422, description = "The name breaks the rules"),
    )
)]
pub async fn upload_mission(
    State(state): State<AppState>,
    ManagedServer { caller, server }: ManagedServer,
    audit: AuditSlot,
    Path((id, name)): Path<(i64, String)>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<Uploaded>), ApiError> {
    audit.set_target(format!("server {id} mission {}", printable(&name)));
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let uploaded = state
        .servers
        .content()
        .upload_mission(
            &server,
            &name,
            declared,
            authority(&caller),
            body.into_data_stream(),
        )
        .await?;
    let status = if uploaded.replaced {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(uploaded)))
}

/// `DELETE /api/v1/servers/{id}/missions/files/{name}`: deletes the mission file `name`;
/// refused while the rotation names it. Manage access.
#[utoipa::path(
    delete,
    path = "/servers/{id}/missions/files/{name}",
    tag = "content",
    params(
        ("id" = i64, Path, description = "Server id"),
        ("name" = String, Path, description = "File name, with its extension"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "View access only"),
        (status = 404, description = "No such server the caller may see, or no such file"),
        (status = 409, description = "The rotation names the mission, or the adapter lacks \
                                      the `missions` capability"),
    )
)]
pub async fn delete_mission(
    State(state): State<AppState>,
    ManagedServer { caller, server }: ManagedServer,
    audit: AuditSlot,
    Path((id, name)): Path<(i64, String)>,
) -> Result<StatusCode, ApiError> {
    audit.set_target(format!("server {id} mission {}", printable(&name)));
    state
        .servers
        .content()
        .delete_mission(&server, &name, authority(&caller))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /servers/{id}/missions/rotation` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotationUpdate {
    /// The rotation in play order: for a table setting, objects keyed by column (see
    /// `rotation.columns` of the list); for a list setting, mission names. Every row must
    /// name a mission file present (by its name without extension).
    #[schema(value_type = Vec<crate::servers::content::missions::RotationRow>)]
    pub rows: Vec<Value>,
}

/// `PUT /api/v1/servers/{id}/missions/rotation`: replaces the rotation. It is saved into the
/// server's settings like `PUT /config` (checked by the schema and the adapter) and applies
/// at the next start. Manage access.
#[utoipa::path(
    put,
    path = "/servers/{id}/missions/rotation",
    tag = "content",
    params(("id" = i64, Path, description = "Server id")),
    request_body = RotationUpdate,
    responses(
        (status = 200, description = "The missions with the new rotation", body = Missions),
        (status = 403, description = "View access only"),
        (status = 404, description = "No such server the caller may see"),
        (status = 409, description = "The game has no rotation setting, or the adapter lacks \
                                      the `missions` capability"),
        (status = 422, description = "A row names no mission present, or the settings \
                                      check refused the rotation, by field"),
    )
)]
pub async fn put_rotation(
    State(state): State<AppState>,
    ManagedServer { caller, server }: ManagedServer,
    audit: AuditSlot,
    Json(update): Json<RotationUpdate>,
) -> Result<Json<Missions>, ApiError> {
    audit.set_target(format!("server {} rotation", server.id));
    Ok(Json(
        state
            .servers
            .content()
            .set_rotation(&server, update.rows, authority(&caller))
            .await?,
    ))
}

/// A name as it may go into the audit log: control and formatting characters replaced,
/// bounded.
pub(super) fn printable(name: &str) -> String {
    name.chars()
        .take(200)
        .map(|c| if crate::names::is_refused(c) { '?' } else { c })
        .collect()
}
