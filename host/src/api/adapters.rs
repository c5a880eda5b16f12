//! `/adapters`: what game adapters the host has, and what files it refused.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::access::Admin;
use super::extract::Path;
use super::{ApiError, AppState};
use crate::adapters::model::{Description, Field};
use crate::adapters::{ContractVersion, LoadedAdapter, Origin};
use crate::auth::Caller;

/// One adapter in a list.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AdapterSummary {
    #[serde(flatten)]
    description: Description,
    /// Where it came from.
    origin: Origin,
    /// SHA-256 of the component.
    sha256: String,
    /// The contract version the component was built against (`garrison:adapter@…`).
    contract: ContractVersion,
    /// Whether new servers of this id use this one (the highest version wins).
    active: bool,
}

/// `GET /adapters` body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AdapterList {
    adapters: Vec<AdapterSummary>,
    /// Drop-in files that were refused, with the reason.
    rejected: Vec<Rejected>,
}

/// A refused drop-in file.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Rejected {
    file: String,
    error: String,
}

/// `GET /adapters/{id}` body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AdapterDetail {
    #[serde(flatten)]
    summary: AdapterSummary,
    /// The settings form.
    schema: Vec<Field>,
}

fn summary(adapter: &Arc<LoadedAdapter>, active: bool) -> AdapterSummary {
    AdapterSummary {
        description: adapter.description.clone(),
        origin: adapter.origin.clone(),
        sha256: adapter.sha256.clone(),
        contract: adapter.contract(),
        active,
    }
}

/// `GET /api/v1/adapters`: every loaded adapter (built-in and drop-in) and the drop-in
/// files that were refused. Any signed-in role.
#[utoipa::path(
    get,
    path = "/adapters",
    tag = "adapters",
    responses((status = 200, description = "The adapters", body = AdapterList))
)]
pub async fn list(State(state): State<AppState>, _caller: Caller) -> Json<AdapterList> {
    let adapters = state
        .adapters
        .list()
        .iter()
        .map(|a| {
            let active = state
                .adapters
                .get(&a.description.id)
                .is_some_and(|current| Arc::ptr_eq(&current, a));
            summary(a, active)
        })
        .collect();
    let rejected = state
        .adapters
        .rejected()
        .into_iter()
        .map(|(path, error)| Rejected {
            file: path.display().to_string(),
            error,
        })
        .collect();
    Json(AdapterList { adapters, rejected })
}

/// `GET /api/v1/adapters/{id}`: the active adapter for `id`, with its schema. Any signed-in
/// role.
#[utoipa::path(
    get,
    path = "/adapters/{id}",
    tag = "adapters",
    params(("id" = String, Path, description = "Adapter id")),
    responses(
        (status = 200, description = "The adapter and its settings form", body = AdapterDetail),
        (status = 404, description = "No adapter with that id"),
    )
)]
pub async fn detail(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<AdapterDetail>, ApiError> {
    let adapter = state
        .adapters
        .get(&id)
        .ok_or_else(|| ApiError::not_found(format!("No adapter with id `{id}` is installed.")))?;
    Ok(Json(AdapterDetail {
        summary: summary(&adapter, true),
        schema: adapter.schema.clone(),
    }))
}

/// Largest adapter component accepted by upload.
pub const MAX_UPLOAD: usize = 64 << 20;

/// `POST /api/v1/adapters`: installs an adapter component (the request body, a `.wasm`
/// file) as a drop-in. It is checked like any drop-in file (component, world,
/// `describe()`) before anything is written; a refused file leaves nothing behind.
/// Administrators only.
#[utoipa::path(
    post,
    path = "/adapters",
    tag = "adapters",
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The component (a `.wasm` file)"),
    responses(
        (status = 201, description = "Installed", body = AdapterSummary),
        (status = 403, description = "Not an administrator"),
        (status = 409, description = "The host has no drop-in directory"),
        (status = 413, description = "Larger than 64 MiB"),
        (status = 422, description = "Not a usable adapter component (the reason is given)"),
    )
)]
pub async fn upload(
    State(state): State<AppState>,
    _admin: Admin,
    audit: super::audit::AuditSlot,
    body: axum::body::Body,
) -> Result<(axum::http::StatusCode, Json<AdapterSummary>), ApiError> {
    let dir = state
        .adapters
        .dropin_dir()
        .ok_or_else(|| ApiError::conflict("The host watches no drop-in directory."))?
        .to_path_buf();
    let bytes = axum::body::to_bytes(body, MAX_UPLOAD)
        .await
        .map_err(|_| ApiError::payload_too_large("An adapter may be at most 64 MiB."))?;
    let runtime = state.adapters.clone();
    let adapter = crate::adapters::blocking(move || {
        // Checked under a provisional name; stored under its id and version once it passed.
        let probe = runtime.load(
            &bytes,
            Origin::DropIn {
                path: dir.join("upload.wasm"),
            },
        )?;
        let id = &probe.description.id;
        let safe = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.';
        let name: String = format!("{id}-{}", probe.description.version)
            .chars()
            .map(|c| if safe(c) { c } else { '_' })
            .collect();
        let path = dir.join(format!("{name}.wasm"));
        crate::files::write_file_in_own_dir(&path, &bytes, crate::servers::paths::FILE_MODE)
            .map_err(|e| crate::adapters::AdapterError::Load(format!("cannot store it: {e}")))?;
        runtime.load_dropin(&path)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|e| match e {
        e @ crate::adapters::AdapterError::NoInstanceSlot { .. } => ApiError::from(e),
        e => ApiError::validation(vec![super::FieldError {
            field: "body".into(),
            message: e.to_string(),
        }]),
    })?;
    audit.set_target(format!("adapter {}", adapter.description.id));
    let active = state
        .adapters
        .get(&adapter.description.id)
        .is_some_and(|current| Arc::ptr_eq(&current, &adapter));
    Ok((
        axum::http::StatusCode::CREATED,
        Json(summary(&adapter, active)),
    ))
}

/// `DELETE /api/v1/adapters/{id}`: removes every drop-in file of adapter `id` (built-in
/// adapters cannot be removed). Refused while servers use it and no built-in of the same id
/// would take over. Administrators only.
#[utoipa::path(
    delete,
    path = "/adapters/{id}",
    tag = "adapters",
    params(("id" = String, Path, description = "Adapter id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not an administrator"),
        (status = 404, description = "No drop-in adapter with that id"),
        (status = 409, description = "Servers still use it"),
    )
)]
pub async fn remove(
    State(state): State<AppState>,
    _admin: Admin,
    audit: super::audit::AuditSlot,
    Path(id): Path<String>,
) -> Result<axum::http::StatusCode, ApiError> {
    audit.set_target(format!("adapter {id}"));
    let versions: Vec<_> = state
        .adapters
        .list()
        .into_iter()
        .filter(|a| a.description.id == id)
        .collect();
    let files: Vec<std::path::PathBuf> = versions
        .iter()
        .filter_map(|a| match &a.origin {
            Origin::DropIn { path } => Some(path.clone()),
            Origin::Builtin => None,
        })
        .collect();
    if files.is_empty() {
        return Err(ApiError::not_found(format!("No drop-in adapter `{id}`.")));
    }
    let has_builtin = versions.iter().any(|a| a.origin == Origin::Builtin);
    let wanted = id.clone();
    let users = state
        .store
        .call(move |conn| {
            Ok(crate::store::servers::list_summaries(conn)?
                .into_iter()
                .filter(|s| s.adapter_id == wanted)
                .count())
        })
        .await?;
    if users > 0 && !has_builtin {
        return Err(ApiError::conflict(format!(
            "{users} server(s) use adapter `{id}`; delete them first."
        )));
    }
    let runtime = state.adapters.clone();
    tokio::task::spawn_blocking(move || {
        for path in files {
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => runtime.remove_dropin(&path),
            }
        }
        Ok(())
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
