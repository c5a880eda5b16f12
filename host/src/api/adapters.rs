//! `/adapters`: what game adapters the host has, and what files it refused.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;

use super::{ApiError, AppState};
use crate::adapters::model::{Description, Field};
use crate::adapters::{LoadedAdapter, Origin};

/// One adapter in a list.
#[derive(Serialize)]
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
#[derive(Serialize)]
pub struct AdapterList {
    adapters: Vec<AdapterSummary>,
    /// Drop-in files that were refused, with the reason.
    rejected: Vec<Rejected>,
}

/// A refused drop-in file.
#[derive(Serialize)]
pub struct Rejected {
    file: String,
    error: String,
}

/// `GET /adapters/{id}` body.
#[derive(Serialize)]
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

/// `GET /api/v1/adapters`.
pub async fn list(State(state): State<AppState>) -> Json<AdapterList> {
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

/// `GET /api/v1/adapters/{id}`: the active adapter for `id`, with its schema.
pub async fn detail(
    State(state): State<AppState>,
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
