//! The live side of a server: players (now and seen before; kick), the remote console, and
//! history (logs, metrics, events). Bans are in [`super::bans`].
//!
//! Reading needs view access; acting on players and the console needs manage access.
//! An operation the server's adapter does not support answers 409 naming the capability.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::access::{ManagedServer, VisibleServer};
use super::audit::AuditSlot;
use super::extract::{Json, OptionalJson, Path, Query};
use super::page::{Page, PageQuery};
use super::{ApiError, AppState};
use crate::store::events::{self, ServerEvent};
use crate::store::logs::{self, LogLine};
use crate::store::metrics::{self, Series};
use crate::store::players::{self, OnlinePlayer, PlayerRecord};

/// `GET /servers/{id}/players` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlayersView {
    /// Everyone on the server now, in order of arrival.
    pub online: Vec<OnlinePlayer>,
}

/// `GET /api/v1/servers/{id}/players`: who is on now (kept current from RCon and the logs).
#[utoipa::path(
    get,
    path = "/servers/{id}/players",
    tag = "players",
    params(("id" = i64, Path, description = "Server id")),
    responses(
        (status = 200, description = "Players online", body = PlayersView),
        (status = 404, description = "No such server the caller may see"),
    )
)]
pub async fn online(
    State(state): State<AppState>,
    VisibleServer { server, .. }: VisibleServer,
) -> Result<Json<PlayersView>, ApiError> {
    let id = server.id;
    let online = state
        .store
        .call(move |conn| players::online(conn, id))
        .await?;
    Ok(Json(PlayersView { online }))
}

/// `GET /servers/{id}/players/history` query.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Items per page: 1 to 500, default 50.
    #[param(minimum = 1, maximum = 500)]
    #[serde(default, deserialize_with = "super::page::bounded::<_, 1, 500>")]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page (a last-seen time).
    pub cursor: Option<String>,
}

/// A page of players seen.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryPage {
    /// Players, most recently seen first.
    pub items: Vec<PlayerRecord>,
    /// Pass as `cursor` for the next page; none at the end.
    pub next_cursor: Option<String>,
}

/// `GET /api/v1/servers/{id}/players/history`: everyone the server has seen, with first and
/// last seen, sessions and names used.
#[utoipa::path(
    get,
    path = "/servers/{id}/players/history",
    tag = "players",
    params(("id" = i64, Path, description = "Server id"), HistoryQuery),
    responses(
        (status = 200, description = "Players seen", body = HistoryPage),
        (status = 404, description = "No such server the caller may see"),
    )
)]
pub async fn history(
    State(state): State<AppState>,
    VisibleServer { server, .. }: VisibleServer,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<HistoryPage>, ApiError> {
    let id = server.id;
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let before = query.cursor.clone();
    let mut items = state
        .store
        .call(move |conn| players::history(conn, id, before.as_deref(), limit + 1))
        .await?;
    let next_cursor = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|p| p.last_seen.clone())
    } else {
        None
    };
    Ok(Json(HistoryPage { items, next_cursor }))
}

/// Kick or ban body.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlayerAction {
    /// Reason shown to the player (at most 200 characters).
    #[serde(default)]
    #[schema(max_length = 200, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    pub reason: String,
    /// Ban length in minutes; none or 0 bans permanently (ignored for kicks).
    #[schema(maximum = 5_256_000)]
    pub minutes: Option<u32>,
}

pub(super) fn check_reason(reason: &str) -> Result<(), ApiError> {
    if reason.chars().count() > 200 || reason.chars().any(char::is_control) {
        return Err(ApiError::validation(vec![super::FieldError {
            field: "reason".into(),
            message: "must be at most 200 characters without control characters".into(),
        }]));
    }
    Ok(())
}

/// `POST /api/v1/servers/{id}/players/{player}/kick`: kicks an online player (by key or
/// slot) over RCon. Manage access. The body may be left out (no reason).
#[utoipa::path(
    post,
    path = "/servers/{id}/players/{player}/kick",
    tag = "players",
    params(
        ("id" = i64, Path, description = "Server id"),
        ("player" = String, Path, description = "The player's key or slot"),
    ),
    request_body(
        content = Option<PlayerAction>,
        description = "Optional: without a body the player is kicked with no reason"
    ),
    responses(
        (status = 204, description = "Kicked"),
        (status = 404, description = "No such server or player"),
        (status = 409, description = "No remote console (capability `rcon` missing or not running)"),
        (status = 502, description = "The game did not answer"),
    )
)]
pub async fn kick(
    State(state): State<AppState>,
    ManagedServer { server, .. }: ManagedServer,
    audit: AuditSlot,
    Path((id, player)): Path<(i64, String)>,
    OptionalJson(action): OptionalJson<PlayerAction>,
) -> Result<StatusCode, ApiError> {
    let action = action.unwrap_or_default();
    audit.set_target(format!("server {id} player {player}"));
    check_reason(&action.reason)?;
    state
        .servers
        .live()
        .kick(&server, &player, &action.reason)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /servers/{id}/console` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsoleCommand {
    /// The command, as typed into the game's console (one line, at most 1000 characters).
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub command: String,
}

/// `POST /servers/{id}/console` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConsoleReply {
    /// The game's complete reply.
    pub reply: String,
}

/// `POST /api/v1/servers/{id}/console`: runs a command over the server's RCon session.
/// Manage access.
#[utoipa::path(
    post,
    path = "/servers/{id}/console",
    tag = "servers",
    params(("id" = i64, Path, description = "Server id")),
    request_body = ConsoleCommand,
    responses(
        (status = 200, description = "The reply", body = ConsoleReply),
        (status = 404, description = "No such server the caller may see"),
        (status = 409, description = "No remote console (capability `rcon` missing or not running)"),
        (status = 502, description = "The game did not answer"),
    )
)]
pub async fn console(
    State(state): State<AppState>,
    ManagedServer { server, .. }: ManagedServer,
    Json(command): Json<ConsoleCommand>,
) -> Result<Json<ConsoleReply>, ApiError> {
    let text = command.command.trim();
    if text.is_empty() || text.chars().count() > 1000 || text.chars().any(char::is_control) {
        return Err(ApiError::validation(vec![super::FieldError {
            field: "command".into(),
            message: "must be one line of 1 to 1000 characters".into(),
        }]));
    }
    let reply = state.servers.live().console(server.id, text).await?;
    Ok(Json(ConsoleReply { reply }))
}

/// `GET /servers/{id}/logs` query.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    /// Lines with a sequence below this, newest first (scrolling back); the default reads
    /// back from the newest line.
    pub before: Option<i64>,
    /// Lines with a sequence above this, oldest first (catching up); wins over `before`.
    pub after: Option<i64>,
    /// `next_cursor` of the previous page: goes on in the direction that page was read
    /// (wins over `before` and `after`).
    pub cursor: Option<String>,
    /// Lines per page: 1 to 1000, default 200.
    #[param(minimum = 1, maximum = 1000)]
    #[serde(default, deserialize_with = "super::page::bounded::<_, 1, 1000>")]
    pub limit: Option<u32>,
}

/// A page of log lines.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LogPage {
    /// Lines, in the order asked for.
    pub items: Vec<LogLine>,
    /// Pass as `cursor` for the next page in the same direction; `null` when there are no
    /// more lines that way (now).
    pub next_cursor: Option<String>,
}

/// `GET /api/v1/servers/{id}/logs`: stored log lines (every source, parsed), paged by
/// sequence.
#[utoipa::path(
    get,
    path = "/servers/{id}/logs",
    tag = "servers",
    params(("id" = i64, Path, description = "Server id"), LogQuery),
    responses(
        (status = 200, description = "Log lines", body = LogPage),
        (status = 404, description = "No such server the caller may see"),
    )
)]
pub async fn logs(
    State(state): State<AppState>,
    VisibleServer { server, .. }: VisibleServer,
    Query(query): Query<LogQuery>,
) -> Result<Json<LogPage>, ApiError> {
    let id = server.id;
    let limit = query.limit.unwrap_or(200).clamp(1, 1000);
    let (forward, from) = match query.cursor.as_deref() {
        Some(cursor) => {
            let (forward, key) = super::page::decode_directed(cursor)?;
            (forward, Some(key))
        }
        None => match query.after {
            Some(after) => (true, Some(after)),
            None => (false, query.before),
        },
    };
    let mut items = state
        .store
        .call(move |conn| {
            if forward {
                logs::after(conn, id, from.unwrap_or(0), limit + 1)
            } else {
                logs::before(conn, id, from, limit + 1)
            }
        })
        .await?;
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = items
        .last()
        .filter(|_| more)
        .map(|last| super::page::encode_directed(forward, last.seq));
    Ok(Json(LogPage { items, next_cursor }))
}

/// `GET /servers/{id}/metrics` query.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MetricsQuery {
    /// Start, ms since the Unix epoch (default: an hour ago).
    pub from: Option<i64>,
    /// End, ms since the Unix epoch (default: now).
    pub to: Option<i64>,
    /// Bucket width in seconds (default: the range over 120 points, at least 5).
    pub step: Option<i64>,
}

/// Downsampled series.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MetricsView {
    /// Start of the range (ms).
    pub from: i64,
    /// End of the range (ms).
    pub to: i64,
    /// Bucket width (ms).
    pub step_ms: i64,
    /// One series per metric name: (bucket start ms, average) points.
    pub series: Vec<Series>,
}

/// `GET /api/v1/servers/{id}/metrics`: CPU, memory and game-reported figures over a range,
/// averaged into buckets of `step`.
#[utoipa::path(
    get,
    path = "/servers/{id}/metrics",
    tag = "servers",
    params(("id" = i64, Path, description = "Server id"), MetricsQuery),
    responses(
        (status = 200, description = "Series", body = MetricsView),
        (status = 404, description = "No such server the caller may see"),
        (status = 422, description = "A bad range"),
    )
)]
pub async fn metrics(
    State(state): State<AppState>,
    VisibleServer { server, .. }: VisibleServer,
    Query(query): Query<MetricsQuery>,
) -> Result<Json<MetricsView>, ApiError> {
    let id = server.id;
    let now = crate::time::now_millis();
    let to = query.to.unwrap_or(now);
    let from = query.from.unwrap_or(to.saturating_sub(3_600_000));
    if from >= to || to.saturating_sub(from) > 366 * 86_400_000 {
        return Err(ApiError::validation(vec![super::FieldError {
            field: "from".into(),
            message: "must be before `to`, at most a year apart".into(),
        }]));
    }
    let step_ms = query
        .step
        .map(|s| s.saturating_mul(1000))
        .unwrap_or((to - from) / 120)
        .max(5000);
    let raw_since = now - 86_400_000;
    let series = state
        .store
        .call(move |conn| metrics::range(conn, id, from, to, step_ms, raw_since))
        .await?;
    Ok(Json(MetricsView {
        from,
        to,
        step_ms,
        series,
    }))
}

/// `GET /api/v1/servers/{id}/events`: the server's history (state changes, crashes,
/// restarts, players, job results), newest first.
#[utoipa::path(
    get,
    path = "/servers/{id}/events",
    tag = "servers",
    operation_id = "events",
    params(("id" = i64, Path, description = "Server id"), PageQuery),
    responses(
        (status = 200, description = "A page of events", body = Page<ServerEvent>),
        (status = 404, description = "No such server the caller may see"),
    )
)]
pub async fn server_events(
    State(state): State<AppState>,
    VisibleServer { server, .. }: VisibleServer,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<ServerEvent>>, ApiError> {
    let id = server.id;
    let (before, limit) = (page.after()?, page.limit());
    let rows = state
        .store
        .call(move |conn| events::list(conn, id, before, limit + 1))
        .await?;
    Ok(Json(Page::from_rows(rows, limit, |e: &ServerEvent| e.id)))
}
