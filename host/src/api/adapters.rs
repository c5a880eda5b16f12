//! `/adapters`: what game adapters the host has, and what files it refused.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::extract::Path;
use super::{ApiError, AppState};
use crate::adapters::model::{Description, Field};
use crate::adapters::{LoadedAdapter, Origin};
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
