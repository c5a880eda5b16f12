//! `/adapters/{id}/runtime`: a game's install shared by its servers (`runtimes/<adapter>/`)
//! — its state, and installing or updating it once for all of them (a job; see
//! [`crate::runtimes`]).
//!
//! Any signed-in caller may read the state, as they may read the adapters; the runtime's
//! jobs are administrators' work, so only administrators see the job in it (as only they
//! see runtime jobs in `/jobs`), and only they may queue one.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use super::access::Admin;
use super::audit::AuditSlot;
use super::extract::Path;
use super::{ApiError, AppState};
use crate::auth::Caller;
use crate::store::jobs::{self, Job, JobKind, NewJob};

/// `GET /adapters/{id}/runtime` body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RuntimeView {
    /// The adapter (game) whose shared install this is.
    pub adapter_id: String,
    /// Whether an install or update into the shared directory has succeeded (a runtime job,
    /// or the install of a server without an install path of its own). An adapter whose
    /// game is installed by hand never shows installed.
    pub installed: bool,
    /// The Steam app SteamCMD installed, when the install plan had a SteamCMD step.
    pub app_id: Option<u32>,
    /// The installed build, from SteamCMD's app manifest (`appmanifest_<app>.acf`), when it
    /// names one.
    pub build_id: Option<String>,
    /// When the last successful install or update finished.
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
    /// The newest install or update job of the runtime — queued, running or finished —
    /// for administrators (follow its log at `/jobs/{id}/logs`); `null` for everyone else,
    /// and when there was none.
    pub job: Option<Job>,
}

fn unknown(id: &str) -> ApiError {
    ApiError::not_found(format!("No adapter with id `{id}` is installed."))
}

/// `GET /api/v1/adapters/{id}/runtime`: the state of the game's shared install. Any
/// signed-in role; the job only for administrators.
#[utoipa::path(
    get,
    path = "/adapters/{id}/runtime",
    tag = "adapters",
    params(("id" = String, Path, description = "Adapter id")),
    responses(
        (status = 200, description = "The runtime's state", body = RuntimeView),
        (status = 404, description = "No adapter with that id"),
    )
)]
pub async fn get_runtime(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<RuntimeView>, ApiError> {
    state.adapters.get(&id).ok_or_else(|| unknown(&id))?;
    let admin = caller.is_admin();
    let adapter = id.clone();
    let (runtime, job) = state
        .store
        .call(move |conn| {
            let runtime = crate::store::runtimes::get(conn, &adapter)?;
            let job = if admin {
                jobs::latest_for_runtime(conn, &adapter)?
            } else {
                None
            };
            Ok((runtime, job))
        })
        .await?;
    Ok(Json(RuntimeView {
        adapter_id: id,
        installed: runtime.is_some(),
        app_id: runtime.as_ref().and_then(|r| r.app_id),
        build_id: runtime.as_ref().and_then(|r| r.build_id.clone()),
        updated_at: runtime.map(|r| r.updated_at),
        job,
    }))
}

/// `POST /api/v1/adapters/{id}/runtime/install`: queues the install of the game's shared
/// runtime, with the adapter's default settings (follow it at `/jobs/{id}`). Administrators
/// only.
#[utoipa::path(
    post,
    path = "/adapters/{id}/runtime/install",
    tag = "adapters",
    params(("id" = String, Path, description = "Adapter id")),
    responses(
        (status = 202, description = "The queued job (follow it at `/jobs/{id}`)", body = Job),
        (status = 403, description = "Not an administrator"),
        (status = 404, description = "No adapter with that id"),
        (status = 409, description = "An install or update of this runtime is already queued or running"),
    )
)]
pub async fn install_runtime(
    State(state): State<AppState>,
    Admin(caller): Admin,
    audit: AuditSlot,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Job>), ApiError> {
    queue(&state, &caller, &audit, id, JobKind::Install).await
}

/// `POST /api/v1/adapters/{id}/runtime/update`: queues the update of the game's shared
/// runtime (the same plan: SteamCMD updates what is there). Administrators only.
#[utoipa::path(
    post,
    path = "/adapters/{id}/runtime/update",
    tag = "adapters",
    params(("id" = String, Path, description = "Adapter id")),
    responses(
        (status = 202, description = "The queued job (follow it at `/jobs/{id}`)", body = Job),
        (status = 403, description = "Not an administrator"),
        (status = 404, description = "No adapter with that id"),
        (status = 409, description = "An install or update of this runtime is already queued or running"),
    )
)]
pub async fn update_runtime(
    State(state): State<AppState>,
    Admin(caller): Admin,
    audit: AuditSlot,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Job>), ApiError> {
    queue(&state, &caller, &audit, id, JobKind::Update).await
}

/// Queues a runtime job; the handlers took an [`Admin`], so the caller is an administrator.
async fn queue(
    state: &AppState,
    caller: &Caller,
    audit: &AuditSlot,
    id: String,
    kind: JobKind,
) -> Result<(StatusCode, Json<Job>), ApiError> {
    audit.set_target(format!("runtime {id}"));
    state.adapters.get(&id).ok_or_else(|| unknown(&id))?;
    let job = state
        .jobs
        .enqueue_runtime(NewJob::for_runtime(id, kind, caller.username.clone()))
        .await?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}
