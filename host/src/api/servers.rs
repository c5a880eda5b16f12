//! `/servers`: game servers — list, create, read, change, delete — their settings
//! (`/config`, secrets never shown) and lifecycle actions (`/actions/{action}`, each a job).
//!
//! Visibility and rights come from [`crate::auth`]: a server the caller may not see is 404;
//! changing one needs manage access (owner, operator grant or administrator); creating one
//! needs the operator role and makes the caller its owner. The live side of a server
//! (players, console, logs, metrics, events) is in [`super::server_live`].

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::access::{ManagedServer, VisibleServer};
use super::audit::AuditSlot;
use super::extract::{Json, Path, Query};
use super::page::{Page, PageQuery};
use super::{ApiError, AppState};
use crate::auth::{Access, Caller, Visibility};
use crate::servers::Authority;
use crate::servers::settings::ServerChanges;
use crate::store::jobs::Job;
use crate::store::servers::{ActualState, DesiredState, RestartPolicy, Server};
use crate::store::{JobKind, NewJob, Role};

/// A server as the API shows it (settings are at `/servers/{id}/config`). It borrows the
/// server's row: serialised at once, it costs no copies.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ServerView<'a> {
    /// Id.
    pub id: i64,
    /// Display name.
    pub name: &'a str,
    /// The adapter (game) that runs it.
    pub adapter: &'a str,
    /// The user who created it.
    pub owner_id: Option<i64>,
    /// What the users asked for.
    pub desired_state: DesiredState,
    /// What the host observes.
    pub actual_state: ActualState,
    /// Exit code of the last crash.
    pub exit_code: Option<i32>,
    /// Why the last job or run failed, if it did.
    pub last_error: Option<&'a str>,
    /// How crashes are followed by restarts.
    pub restart: RestartView,
    /// Seconds between SIGTERM and SIGKILL when stopping.
    pub stop_grace_secs: u32,
    /// The remote console's status while the server runs; none without one.
    pub rcon: Option<RconState>,
    /// What the caller may do with the server.
    pub access: AccessLevel,
    /// Players on the server now, while it runs (the game's own count, as last polled).
    pub players_online: Option<u32>,
    /// When the game process that runs now started (RFC 3339); null without one. With a
    /// process reattached after a host restart, when it first started.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<String>,
    /// How the automatic restarts after crashes stand.
    pub restarts: RestartsView,
    /// Created (RFC 3339).
    #[schema(format = DateTime)]
    pub created_at: &'a str,
    /// Last changed (RFC 3339).
    #[schema(format = DateTime)]
    pub updated_at: &'a str,
}

/// The state of a server's remote console connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RconState {
    /// Connecting, or waiting to try again.
    Connecting,
    /// Connected and signed in.
    Connected,
    /// The game refused the password (set the right one in the server's settings).
    AuthFailed,
    /// Lost; it will be tried again.
    Disconnected,
    /// Not kept: the server is not running.
    Stopped,
}

/// What a caller may do with a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessLevel {
    /// See it: state, logs, players, history.
    View,
    /// Also change, start, stop and delete it.
    Manage,
}

/// A restart policy.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestartView {
    /// Whether crashes are followed by a restart.
    pub enabled: bool,
    /// Restarts allowed within the window before the host gives up (0 to 100).
    #[schema(maximum = 100)]
    pub max: u32,
    /// The window, in seconds (1 to 86400).
    #[schema(minimum = 1, maximum = 86400)]
    pub window_secs: u32,
}

/// How a server's automatic restarts after crashes stand.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct RestartsView {
    /// Automatic restarts within the restart policy's window (`restart.window_secs`), one
    /// waiting for its backoff included; 0 after a start or restart by a user.
    pub count: u32,
    /// The most the policy allows within the window; after that the host gives up and the
    /// server stays crashed.
    pub max: u32,
    /// Whether the host restarts the crashed server shortly (`count` is that restart's
    /// number): "crashed, restarting 2/3".
    pub restarting: bool,
}

impl From<RestartPolicy> for RestartView {
    fn from(p: RestartPolicy) -> Self {
        RestartView {
            enabled: p.enabled,
            max: p.max,
            window_secs: p.window_secs,
        }
    }
}

/// How many players each server has on it now.
async fn player_counts(state: &AppState) -> Result<HashMap<i64, u32>, ApiError> {
    Ok(state
        .store
        .call(|conn| crate::store::players::online_counts(conn))
        .await?)
}

fn view<'a>(
    state: &AppState,
    server: &'a Server,
    access: Access,
    players: &HashMap<i64, u32>,
) -> ServerView<'a> {
    let running = server.actual_state == ActualState::Running;
    let rcon = state.servers.live().rcon_status(server.id).map(|s| {
        use crate::telemetry::rcon::RconStatus;
        match s {
            RconStatus::Connecting { .. } => RconState::Connecting,
            RconStatus::Connected => RconState::Connected,
            RconStatus::AuthFailed(_) => RconState::AuthFailed,
            RconStatus::Disconnected { .. } => RconState::Disconnected,
            RconStatus::Stopped => RconState::Stopped,
        }
    });
    let restarts = state.servers.restarts(server.id).map_or(
        RestartsView {
            count: 0,
            max: server.restart.max,
            restarting: false,
        },
        |r| RestartsView {
            count: r.count,
            max: r.max,
            restarting: r.restarting,
        },
    );
    let started_at = server
        .process
        .and_then(|p| {
            crate::supervisor::process::ProcessId {
                pid: i32::try_from(p.pid).ok()?,
                start_time: p.start_time,
            }
            .started_at()
        })
        .map(crate::time::rfc3339);
    ServerView {
        id: server.id,
        name: &server.name,
        adapter: &server.adapter_id,
        owner_id: server.owner_id,
        desired_state: server.desired_state,
        actual_state: server.actual_state,
        exit_code: server.exit_code,
        last_error: server.last_error.as_deref(),
        restart: server.restart.into(),
        stop_grace_secs: server.stop_grace_secs,
        rcon,
        access: match access {
            Access::View => AccessLevel::View,
            Access::Manage => AccessLevel::Manage,
        },
        players_online: running.then(|| players.get(&server.id).copied().unwrap_or(0)),
        started_at,
        restarts,
        created_at: &server.created_at,
        updated_at: &server.updated_at,
    }
}

/// What the caller may decide about what a server runs (see [`crate::servers::trust`]).
pub(super) fn authority(caller: &Caller) -> Authority {
    Authority::of_admin(caller.is_admin())
}

/// `GET /api/v1/servers`: the servers the caller may see, by id.
#[utoipa::path(
    get,
    path = "/servers",
    tag = "servers",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of servers", body = Page<ServerView>),
        (status = 400, description = "Bad cursor"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let (after, limit) = (page.after()?.unwrap_or(0), page.limit());
    // The rows come from memory while no server changed; only a non-administrator's grants
    // are read per call.
    let all = state.store.server_summaries().await?;
    let visibility = if caller.is_admin() {
        Visibility::of_admin(&caller)
    } else {
        let who = caller.clone();
        state
            .store
            .call(move |conn| Visibility::load(conn, &who))
            .await?
    };
    let players = player_counts(&state).await?;
    let start = all.partition_point(|s| s.id <= after);
    let views = all[start..]
        .iter()
        .filter_map(|s| Some((s, visibility.access(s.id, s.owner_id)?)))
        .take(limit as usize + 1)
        .map(|(server, access)| view(&state, server, access, &players))
        .collect();
    Ok(Json(Page::from_rows(views, limit, |s: &ServerView| s.id)).into_response())
}

/// `POST /servers` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewServerRequest {
    /// Display name (1 to 100 characters).
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Adapter id (see `/adapters`).
    pub adapter: String,
    /// Settings: field key → value, as the adapter's config schema describes.
    #[serde(default)]
    #[schema(value_type = std::collections::BTreeMap<String, serde_json::Value>)]
    pub settings: Value,
}

/// A server name as stored: trimmed, in Unicode normal form C, 1 to 100 characters, without
/// control or formatting characters (see [`crate::names`]).
fn check_name(name: &str) -> Result<String, ApiError> {
    let name = crate::names::nfc(name.trim());
    let refuse = |message: String| {
        ApiError::validation(vec![super::FieldError {
            field: "name".into(),
            message,
        }])
    };
    if name.is_empty() || name.chars().count() > 100 {
        return Err(refuse("must be 1 to 100 characters".into()));
    }
    if let Some(why) = crate::names::refusal(&name) {
        return Err(refuse(format!("the name {why}")));
    }
    Ok(name)
}

/// `POST /api/v1/servers`: creates a server owned by the caller (operator role or higher).
/// The settings are checked by the adapter's schema and by the adapter; secrets are
/// encrypted before they are stored.
#[utoipa::path(
    post,
    path = "/servers",
    tag = "servers",
    request_body = NewServerRequest,
    responses(
        (status = 201, description = "Created", body = ServerView),
        (status = 403, description = "The caller is a viewer, or an operator choosing \
                                      settings that run a program outside the game's install"),
        (status = 422, description = "Invalid name, adapter or settings, by field"),
        (status = 507, description = "The host's storage refused the server's files or row; \
                                      nothing was created"),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    audit: AuditSlot,
    Json(request): Json<NewServerRequest>,
) -> Result<Response, ApiError> {
    caller.require_role(Role::Operator)?;
    let name = check_name(&request.name)?;
    let settings = match request.settings {
        Value::Null => Value::Object(Default::default()),
        other => other,
    };
    let server = state
        .servers
        .settings()
        .create_for(
            Some(caller.user_id),
            &name,
            &request.adapter,
            settings,
            authority(&caller),
        )
        .await?;
    audit.set_target(format!("server {}", server.id));
    Ok((
        StatusCode::CREATED,
        Json(view(
            &state,
            &server,
            Access::Manage,
            &player_counts(&state).await?,
        )),
    )
        .into_response())
}

/// `GET /api/v1/servers/{id}`.
#[utoipa::path(
    get,
    path = "/servers/{id}",
    tag = "servers",
    params(("id" = i64, Path, description = "Server id")),
    responses(
        (status = 200, description = "The server", body = ServerView),
        (status = 404, description = "No such server the caller may see"),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    VisibleServer { server, access, .. }: VisibleServer,
) -> Result<Response, ApiError> {
    Ok(Json(view(&state, &server, access, &player_counts(&state).await?)).into_response())
}

/// `PATCH /servers/{id}` body: only what changes.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerUpdate {
    /// New display name (1 to 100 characters).
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// New restart policy.
    pub restart: Option<RestartView>,
    /// New stop grace, 0 to 3600 seconds.
    #[schema(maximum = 3600)]
    pub stop_grace_secs: Option<u32>,
}

/// `PATCH /api/v1/servers/{id}`: renames the server or changes its policies (manage access).
#[utoipa::path(
    patch,
    path = "/servers/{id}",
    tag = "servers",
    params(("id" = i64, Path, description = "Server id")),
    request_body = ServerUpdate,
    responses(
        (status = 200, description = "Updated", body = ServerView),
        (status = 403, description = "View access only"),
        (status = 404, description = "No such server the caller may see"),
        (status = 422, description = "Invalid values, by field"),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    ManagedServer { server, .. }: ManagedServer,
    audit: AuditSlot,
    Json(update): Json<ServerUpdate>,
) -> Result<Response, ApiError> {
    audit.set_changed(
        [
            update.name.as_ref().map(|_| "name"),
            update.restart.as_ref().map(|_| "restart"),
            update.stop_grace_secs.map(|_| "stop_grace_secs"),
        ]
        .into_iter()
        .flatten(),
    );
    let mut errors = Vec::new();
    let name = match update.name.as_deref().map(check_name) {
        Some(Ok(name)) => Some(name),
        Some(Err(e)) => return Err(e),
        None => None,
    };
    if let Some(r) = &update.restart {
        if r.max > 100 {
            errors.push(("restart.max", "must be 0 to 100"));
        }
        if !(1..=86_400).contains(&r.window_secs) {
            errors.push(("restart.window_secs", "must be 1 to 86400"));
        }
    }
    if update.stop_grace_secs.is_some_and(|g| g > 3600) {
        errors.push(("stop_grace_secs", "must be 0 to 3600"));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(
            errors
                .into_iter()
                .map(|(field, message)| super::FieldError {
                    field: field.into(),
                    message: message.into(),
                })
                .collect(),
        ));
    }
    let changes = ServerChanges {
        name,
        restart: update.restart.map(|r| RestartPolicy {
            enabled: r.enabled,
            max: r.max,
            window_secs: r.window_secs,
        }),
        stop_grace_secs: update.stop_grace_secs,
    };
    let server = state
        .servers
        .settings()
        .update_meta(&server, changes)
        .await?;
    Ok(Json(view(
        &state,
        &server,
        Access::Manage,
        &player_counts(&state).await?,
    ))
    .into_response())
}

/// `DELETE /api/v1/servers/{id}`: queues the delete job (the game is killed, its files are
/// removed, its history is kept). Manage access.
#[utoipa::path(
    delete,
    path = "/servers/{id}",
    tag = "servers",
    params(("id" = i64, Path, description = "Server id")),
    responses(
        (status = 202, description = "The delete job (follow it at `/jobs/{id}`)", body = Job),
        (status = 403, description = "View access only"),
        (status = 409, description = "A job that excludes this one is queued or running"),
        (status = 404, description = "No such server the caller may see"),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    ManagedServer { caller, server }: ManagedServer,
) -> Result<(StatusCode, Json<Job>), ApiError> {
    let id = server.id;
    queue(&state, &caller, id, JobKind::Delete).await
}

async fn queue(
    state: &AppState,
    caller: &Caller,
    id: i64,
    kind: JobKind,
) -> Result<(StatusCode, Json<Job>), ApiError> {
    let job = state
        .jobs
        .enqueue(NewJob::for_server(id, kind, caller.username.clone()))
        .await
        .map_err(|e| ApiError::conflict(e.to_string()))?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// A lifecycle action.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Render the config and launch.
    Start,
    /// Stop through the adapter's stop plan, then signals.
    Stop,
    /// Stop, render, launch.
    Restart,
    /// SIGKILL the process group.
    Kill,
    /// Install the game (SteamCMD) into its runtime.
    Install,
    /// Update the game's runtime.
    Update,
}

/// `POST /api/v1/servers/{id}/actions/{action}`: queues the action as a job and returns it
/// (follow it at `/jobs/{id}`). Manage access.
#[utoipa::path(
    post,
    path = "/servers/{id}/actions/{action}",
    tag = "servers",
    params(
        ("id" = i64, Path, description = "Server id"),
        ("action" = Action, Path, description = "What to do"),
    ),
    responses(
        (status = 202, description = "The queued job (follow it at `/jobs/{id}`)", body = Job),
        (status = 400, description = "Unknown action"),
        (status = 403, description = "View access only"),
        (status = 409, description = "A job that excludes this one is queued or running"),
        (status = 404, description = "No such server the caller may see"),
    )
)]
pub async fn action(
    State(state): State<AppState>,
    ManagedServer { caller, server }: ManagedServer,
    Path((_server, action)): Path<(i64, Action)>,
) -> Result<(StatusCode, Json<Job>), ApiError> {
    let kind = match action {
        Action::Start => JobKind::Start,
        Action::Stop => JobKind::Stop,
        Action::Restart => JobKind::Restart,
        Action::Kill => JobKind::Kill,
        Action::Install => JobKind::Install,
        Action::Update => JobKind::Update,
    };
    queue(&state, &caller, server.id, kind).await
}

/// The server's settings, secrets masked.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConfigView {
    /// The adapter whose schema the settings follow (see `/adapters/{id}`).
    pub adapter: String,
    /// Field key → value; a secret field shows only `{"set": true|false}`.
    #[schema(value_type = std::collections::BTreeMap<String, serde_json::Value>)]
    pub settings: serde_json::Map<String, Value>,
}

/// `GET /api/v1/servers/{id}/config`: the settings, secrets masked.
#[utoipa::path(
    get,
    path = "/servers/{id}/config",
    tag = "servers",
    params(("id" = i64, Path, description = "Server id")),
    responses(
        (status = 200, description = "The settings", body = ConfigView),
        (status = 404, description = "No such server the caller may see"),
    )
)]
pub async fn get_config(
    State(state): State<AppState>,
    VisibleServer { server, .. }: VisibleServer,
) -> Result<Json<ConfigView>, ApiError> {
    let settings = state.servers.settings().masked(&server)?;
    Ok(Json(ConfigView {
        adapter: server.adapter_id,
        settings,
    }))
}

/// `PUT /servers/{id}/config` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigUpdate {
    /// Every setting (field key → value). A secret left out, `null` or sent back masked
    /// keeps its stored value.
    #[schema(value_type = std::collections::BTreeMap<String, serde_json::Value>)]
    pub settings: Value,
}

/// `PUT /api/v1/servers/{id}/config`: replaces the settings after the adapter validated
/// them (problems come back keyed by field). Applies at the next start. Manage access.
#[utoipa::path(
    put,
    path = "/servers/{id}/config",
    tag = "servers",
    params(("id" = i64, Path, description = "Server id")),
    request_body = ConfigUpdate,
    responses(
        (status = 200, description = "The stored settings, secrets masked", body = ConfigView),
        (status = 403, description = "View access only, or settings that run a program \
                                      outside the game's install and the caller is not an \
                                      administrator"),
        (status = 404, description = "No such server the caller may see"),
        (status = 422, description = "Invalid settings, by field"),
    )
)]
pub async fn put_config(
    State(state): State<AppState>,
    ManagedServer {
        caller,
        server: before,
    }: ManagedServer,
    audit: AuditSlot,
    Json(update): Json<ConfigUpdate>,
) -> Result<Json<ConfigView>, ApiError> {
    let server = state
        .servers
        .settings()
        .update(&before, update.settings, authority(&caller))
        .await?;
    let changed = state.servers.settings().changed(&before, &server);
    audit.set_changed(changed.iter().map(String::as_str));
    let settings = state.servers.settings().masked(&server)?;
    Ok(Json(ConfigView {
        adapter: server.adapter_id,
        settings,
    }))
}
