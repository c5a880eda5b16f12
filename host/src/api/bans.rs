//! A server's bans: kept by the host, pushed to the game over its remote console.
//!
//! `GET /servers/{id}/bans` lists the kept bans, merged with the game's own list when its
//! RCon session is up (entries only the game knows come with `source: "game"` and an id
//! `game:<the game's id>`). Banning (an identity, or an online player) and lifting answer
//! whether the game was told now or will be when its RCon session next logs in. Reading
//! needs view access, the rest manage access; an adapter that cannot ban answers 409.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::access::{ManagedServer, VisibleServer};
use super::audit::AuditSlot;
use super::extract::{Json, Path};
use super::server_live::{PlayerAction, check_reason};
use super::{ApiError, AppState, FieldError};
use crate::adapters::model::BanEntry;
use crate::auth::Caller;
use crate::servers::bans::{BanOrder, BanOutcome, BanRef, BanSubject};
use crate::store::bans::Ban;

/// The longest timed ban, in minutes (ten years); longer is permanent.
const MAX_MINUTES: u32 = 10 * 365 * 24 * 60;

/// Where a listed ban comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BanSource {
    /// Kept by the host (and pushed to the game).
    Garrison,
    /// Only in the game's own list.
    Game,
}

/// One ban of a server.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BanView {
    /// The ban's id: the host's number for a kept ban, `game:<id>` for a game-only entry.
    pub id: String,
    /// Kept by the host, or only in the game's list.
    pub source: BanSource,
    /// Banned identity (Steam id, GUID, address).
    pub identity: String,
    /// The player's name, when banned while online.
    pub player_name: Option<String>,
    /// Recorded reason.
    pub reason: String,
    /// Minutes left; none when permanent.
    pub minutes_left: Option<u32>,
    /// When a timed kept ban ends (RFC 3339).
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    /// When the ban was given (RFC 3339; kept bans only).
    #[schema(format = DateTime)]
    pub created_at: Option<String>,
    /// The user who gave it (kept bans only).
    pub user_id: Option<i64>,
    /// The API key they used (kept bans only).
    pub api_key_id: Option<i64>,
    /// Whether the game has taken the ban (pushed, or seen in its list).
    pub pushed: bool,
    /// Whether the game's list has it now; none when the list could not be read.
    pub in_game: Option<bool>,
}

impl BanView {
    fn kept(ban: Ban, in_game: Option<bool>) -> Self {
        BanView {
            id: ban.id.to_string(),
            source: BanSource::Garrison,
            identity: ban.identity,
            player_name: ban.player_name,
            reason: ban.reason,
            minutes_left: ban.minutes_left,
            expires_at: ban.expires_at,
            created_at: Some(ban.created_at),
            user_id: ban.user_id,
            api_key_id: ban.api_key_id,
            pushed: ban.pushed_at.is_some() || in_game == Some(true),
            in_game,
        }
    }

    fn game(entry: BanEntry) -> Self {
        BanView {
            id: format!("game:{}", entry.id),
            source: BanSource::Game,
            identity: entry.identity,
            player_name: None,
            reason: entry.reason,
            minutes_left: entry.minutes_left,
            expires_at: None,
            created_at: None,
            user_id: None,
            api_key_id: None,
            pushed: true,
            in_game: Some(true),
        }
    }
}

/// `GET /servers/{id}/bans` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BanList {
    /// Kept bans (oldest first), then entries only the game's list has.
    pub items: Vec<BanView>,
    /// Whether the game's list was read (its RCon session is up and answered); when not,
    /// `in_game` is null and game-only entries are not shown.
    pub game_list_read: bool,
}

/// When the game hears of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// It was told now.
    Now,
    /// When its RCon session next logs in (it is not running, or not reachable now).
    AtNextConnection,
}

/// Answer to banning or lifting a ban.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BanChange {
    /// The kept ban as stored (none for a lifted game-only entry).
    pub ban: Option<BanView>,
    /// When the game hears of it.
    pub pushed: Delivery,
}

impl BanChange {
    /// The answer to a ban given: in the game's list now if it was pushed.
    fn added(outcome: BanOutcome) -> Self {
        Self::new(outcome, true)
    }

    /// The answer to a ban lifted: out of the game's list now if it was pushed.
    fn lifted(outcome: BanOutcome) -> Self {
        Self::new(outcome, false)
    }

    fn new(outcome: BanOutcome, listed_once_pushed: bool) -> Self {
        let in_game = outcome.pushed.then_some(listed_once_pushed);
        BanChange {
            ban: outcome.ban.map(|b| BanView::kept(b, in_game)),
            pushed: if outcome.pushed {
                Delivery::Now
            } else {
                Delivery::AtNextConnection
            },
        }
    }
}

fn check_minutes(minutes: Option<u32>) -> Result<Option<u32>, ApiError> {
    match minutes {
        Some(m) if m > MAX_MINUTES => Err(ApiError::validation(vec![FieldError {
            field: "minutes".into(),
            message: format!("at most {MAX_MINUTES} (ten years); leave it out for a permanent ban"),
        }])),
        other => Ok(other.filter(|m| *m > 0)),
    }
}

fn order(caller: &Caller, minutes: Option<u32>, reason: String) -> BanOrder {
    BanOrder {
        minutes,
        reason,
        user_id: Some(caller.user_id),
        api_key_id: caller.api_key_id,
    }
}

/// `GET /api/v1/servers/{id}/bans`: the kept bans, merged with the game's list when its
/// remote console is up.
#[utoipa::path(
    get,
    path = "/servers/{id}/bans",
    tag = "bans",
    params(("id" = i64, Path, description = "Server id")),
    responses(
        (status = 200, description = "The bans", body = BanList),
        (status = 404, description = "No such server the caller may see"),
        (status = 409, description = "The adapter cannot ban (capability `rcon` or `ban` missing)"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    VisibleServer { server, .. }: VisibleServer,
) -> Result<Json<BanList>, ApiError> {
    let list = state.servers.bans().list(&server).await?;
    let mut items: Vec<BanView> = list
        .kept
        .into_iter()
        .map(|(ban, in_game)| BanView::kept(ban, in_game))
        .collect();
    items.extend(list.game_only.into_iter().map(BanView::game));
    Ok(Json(BanList {
        items,
        game_list_read: list.game_read,
    }))
}

/// `POST /servers/{id}/bans` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBan {
    /// Identity to ban (Steam id, GUID, address), online or not.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub identity: String,
    /// Length in minutes, at most ten years; none or 0 bans permanently.
    #[schema(maximum = 5_256_000)]
    pub minutes: Option<u32>,
    /// Reason (at most 200 characters).
    #[serde(default)]
    #[schema(max_length = 200, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    pub reason: String,
}

/// `POST /api/v1/servers/{id}/bans`: bans an identity. The ban is kept first, then pushed to
/// the game if its remote console is up, else when it next logs in. Manage access.
#[utoipa::path(
    post,
    path = "/servers/{id}/bans",
    tag = "bans",
    params(("id" = i64, Path, description = "Server id")),
    request_body = NewBan,
    responses(
        (status = 201, description = "Banned (kept; `pushed` says when the game hears of it)", body = BanChange),
        (status = 400, description = "The adapter refuses the identity or the length"),
        (status = 404, description = "No such server the caller may see"),
        (status = 409, description = "The adapter cannot ban (capability `rcon` or `ban` missing)"),
        (status = 422, description = "A field breaks a rule"),
    )
)]
pub async fn add(
    State(state): State<AppState>,
    ManagedServer { caller, server }: ManagedServer,
    audit: AuditSlot,
    Json(ban): Json<NewBan>,
) -> Result<(StatusCode, Json<BanChange>), ApiError> {
    audit.set_target(format!("server {} ban {}", server.id, ban.identity));
    check_reason(&ban.reason)?;
    let minutes = check_minutes(ban.minutes)?;
    let identity = ban.identity.trim();
    if identity.is_empty()
        || identity.chars().count() > 100
        || identity.chars().any(char::is_control)
    {
        return Err(ApiError::validation(vec![FieldError {
            field: "identity".into(),
            message: "must be 1 to 100 characters without control characters".into(),
        }]));
    }
    let outcome = state
        .servers
        .bans()
        .ban(
            &server,
            BanSubject::Identity(identity.to_string()),
            order(&caller, minutes, ban.reason),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(BanChange::added(outcome))))
}

/// `POST /api/v1/servers/{id}/players/{player}/ban`: bans an online player (kept by their
/// identity, else their address) and, with the remote console up, removes them at once.
/// Manage access.
#[utoipa::path(
    post,
    path = "/servers/{id}/players/{player}/ban",
    tag = "players",
    operation_id = "ban",
    params(
        ("id" = i64, Path, description = "Server id"),
        ("player" = String, Path, description = "The player's key or slot"),
    ),
    request_body = PlayerAction,
    responses(
        (status = 201, description = "Banned (kept; `pushed` says when the game hears of it)", body = BanChange),
        (status = 400, description = "The adapter refuses the ban"),
        (status = 404, description = "No such server, or the player is not online"),
        (status = 409, description = "The adapter cannot ban, or the player has no identity"),
        (status = 422, description = "A field breaks a rule"),
    )
)]
pub async fn ban_player(
    State(state): State<AppState>,
    ManagedServer { caller, server }: ManagedServer,
    audit: AuditSlot,
    Path((id, player)): Path<(i64, String)>,
    Json(action): Json<PlayerAction>,
) -> Result<(StatusCode, Json<BanChange>), ApiError> {
    audit.set_target(format!("server {id} player {player}"));
    check_reason(&action.reason)?;
    let minutes = check_minutes(action.minutes)?;
    let outcome = state
        .servers
        .bans()
        .ban(
            &server,
            BanSubject::Online(player),
            order(&caller, minutes, action.reason),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(BanChange::added(outcome))))
}

/// Reads a ban id of the API: a kept ban's number, or `game:<id>`.
fn ban_ref(text: &str) -> Result<BanRef, ApiError> {
    let not_found = || ApiError::from(crate::store::StoreError::NotFound(format!("ban {text}")));
    if let Some(game_id) = text.strip_prefix("game:") {
        if game_id.is_empty()
            || game_id.chars().count() > 100
            || game_id.chars().any(char::is_control)
        {
            return Err(not_found());
        }
        return Ok(BanRef::Game(game_id.to_string()));
    }
    match text.parse::<i64>() {
        Ok(n) if n > 0 && !text.starts_with('+') => Ok(BanRef::Kept(n)),
        _ => Err(not_found()),
    }
}

/// `DELETE /api/v1/servers/{id}/bans/{ban}`: lifts a ban. A kept ban is lifted at once in
/// the host and in the game if its remote console is up, else when it next logs in; a
/// game-only entry (`game:<id>`) needs the console up. Manage access.
#[utoipa::path(
    delete,
    path = "/servers/{id}/bans/{ban}",
    tag = "bans",
    params(
        ("id" = i64, Path, description = "Server id"),
        ("ban" = String, Path, description = "The ban's id: a kept ban's number or `game:<id>`"),
    ),
    responses(
        (status = 200, description = "Lifted (`pushed` says when the game hears of it)", body = BanChange),
        (status = 404, description = "No such server or ban"),
        (status = 409, description = "The adapter cannot ban, or (for a game-only entry) no remote console is up"),
        (status = 502, description = "The game did not answer"),
    )
)]
pub async fn remove(
    State(state): State<AppState>,
    ManagedServer { server, .. }: ManagedServer,
    audit: AuditSlot,
    Path((id, ban)): Path<(i64, String)>,
) -> Result<Json<BanChange>, ApiError> {
    audit.set_target(format!("server {id} ban {ban}"));
    let which = ban_ref(&ban);
    // An adapter that cannot ban says so before the id is judged.
    let which = match which {
        Ok(which) => which,
        Err(e) => {
            state.servers.bans().check_can_ban(&server)?;
            return Err(e);
        }
    };
    let outcome = state.servers.bans().unban(&server, which).await?;
    Ok(Json(BanChange::lifted(outcome)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ban_ids_are_kept_numbers_or_game_entries() {
        assert_eq!(ban_ref("12").ok(), Some(BanRef::Kept(12)));
        assert_eq!(ban_ref("game:3").ok(), Some(BanRef::Game("3".into())));
        for bad in ["0", "-1", "+5", "x", "game:", "99999999999999999999", ""] {
            assert!(ban_ref(bad).is_err(), "{bad}");
        }
    }
}
