//! Bans: kept by the host, pushed to the game over its remote console.
//!
//! Durable first: a ban (or the lifting of one) is a row before any command is sent. When the
//! server's RCon session is up the change goes to the game at once; otherwise, and whenever a
//! session authenticates later, [`Bans::sync`] pushes every kept ban the game's list
//! lacks and lifts the lifted ones it still has (a reinstall or a fresh server forgets bans;
//! a stopped one cannot be told). The game's list is read as it is: entries only the game
//! knows are shown, and can be lifted, but are not taken over.
//!
//! Commands and the reading of the game's list come from the server's adapter; this module
//! knows no game. [`Bans`] owns all of it; it is reached as [`Servers::bans`].

use std::sync::{Arc, Weak};

use super::{Inner, Servers, UnknownAdapter};
use crate::adapters::model::{BanEntry, BanRequest, BanTarget};
use crate::adapters::{AdapterError, LoadedAdapter};
use crate::store::StoreError;
use crate::store::bans::{self, Ban, NewBan};
use crate::store::servers::Server;
use crate::telemetry::counters;
use crate::telemetry::rcon::{RconError, RconHandle, RconStatus};

/// Why giving, lifting or listing a server's bans failed.
#[derive(Debug, thiserror::Error)]
pub enum BanError {
    /// The database failed, or no such ban or online player.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The adapter refused the ban (or failed).
    #[error(transparent)]
    Adapter(#[from] AdapterError),
    /// The server's adapter is no longer installed.
    #[error(transparent)]
    UnknownAdapter(#[from] UnknownAdapter),
    /// The server's adapter cannot ban (capability `rcon` or `ban` missing).
    #[error("the adapter does not support `{0}`")]
    Unsupported(&'static str),
    /// Lifting a game-only entry needs the remote console, and none is logged in.
    #[error("the server has no remote console running")]
    NoRcon,
    /// The remote console did not answer.
    #[error(transparent)]
    Rcon(#[from] RconError),
    /// The online player (named) reports neither an identity nor an address to keep a ban by.
    #[error("player {0} has no identity or address to ban by")]
    NoIdentity(String),
}

/// The bans of every server: kept in the store, pushed to each game over its remote console.
/// Cheap to clone.
#[derive(Clone)]
pub struct Bans {
    servers: Servers,
}

/// Who to ban.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BanSubject {
    /// A player online now, by their key or slot; banned by their identity.
    Online(String),
    /// An identity (Steam id, GUID, address), online or not.
    Identity(String),
}

/// A ban to give.
#[derive(Debug, Clone, Default)]
pub struct BanOrder {
    /// Length in minutes; none bans permanently.
    pub minutes: Option<u32>,
    /// Why.
    pub reason: String,
    /// The user who asked.
    pub user_id: Option<i64>,
    /// The API key they used.
    pub api_key_id: Option<i64>,
}

/// Which ban to lift.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BanRef {
    /// A ban the host keeps, by its id.
    Kept(i64),
    /// An entry only the game's list has, by the game's id for it.
    Game(String),
}

/// What giving or lifting a ban did.
#[derive(Debug, Clone)]
pub struct BanOutcome {
    /// The kept ban (for a lifted game-only entry: none).
    pub ban: Option<Ban>,
    /// Whether the game was told now; if not, it will be when its RCon session next
    /// connects.
    pub pushed: bool,
}

/// A server's bans: the host's, each with whether the game has it, and the game's own.
#[derive(Debug, Clone)]
pub struct BanList {
    /// The kept bans in force, with whether the game's list has each (none: the game's list
    /// could not be read).
    pub kept: Vec<(Ban, Option<bool>)>,
    /// Entries only the game's list has.
    pub game_only: Vec<BanEntry>,
    /// Whether the game's list was read (its RCon session is up and answered).
    pub game_read: bool,
}

/// Whether the game's entry `entry` is a ban of `identity`.
fn same_identity(entry: &BanEntry, identity: &str) -> bool {
    entry.identity.trim().eq_ignore_ascii_case(identity.trim())
}

/// The identity a ban of an online player is kept by: their stable identity, else the
/// address they connected from (without the port).
fn identity_of(unique_id: Option<&str>, address: Option<&str>) -> Option<String> {
    if let Some(id) = unique_id.map(str::trim).filter(|id| !id.is_empty()) {
        return Some(id.to_string());
    }
    let address = address.map(str::trim).filter(|a| !a.is_empty())?;
    let host = match address.rsplit_once(':') {
        // `[v6]:port`, `v4:port`; a bare v6 address has more than one colon.
        Some((host, port))
            if !host.is_empty()
                && port.chars().all(|c| c.is_ascii_digit())
                && (host.starts_with('[') || !host.contains(':')) =>
        {
            host.trim_start_matches('[').trim_end_matches(']')
        }
        _ => address,
    };
    Some(host.to_string())
}

impl Bans {
    pub(super) fn new(servers: Servers) -> Self {
        Bans { servers }
    }

    /// The server's adapter, if it can ban (capabilities `rcon` and `ban`).
    fn ban_adapter(&self, server: &Server) -> Result<Arc<LoadedAdapter>, BanError> {
        let adapter = self.servers.inner.adapter_of(server)?;
        if !adapter.description.has("rcon") {
            return Err(BanError::Unsupported("rcon"));
        }
        if !adapter.description.has("ban") {
            return Err(BanError::Unsupported("ban"));
        }
        Ok(adapter)
    }

    /// `Ok` if `server`'s adapter can ban, else why not.
    pub fn check_can_ban(&self, server: &Server) -> Result<(), BanError> {
        self.ban_adapter(server).map(|_| ())
    }

    /// Server `id`'s RCon session, if it is logged in now.
    fn connected_rcon(&self, id: i64) -> Option<RconHandle> {
        let handle = self
            .servers
            .inner
            .trackers()
            .get(&id)
            .and_then(crate::telemetry::players::PlayerTracker::rcon)?;
        let connected = *handle.status().borrow() == RconStatus::Connected;
        connected.then_some(handle)
    }

    /// The game's ban list, read over `handle`.
    async fn game_bans(
        &self,
        adapter: &Arc<LoadedAdapter>,
        handle: &RconHandle,
    ) -> Result<Vec<BanEntry>, BanError> {
        let inner = &self.servers.inner;
        let command = inner.call(adapter, |s| s.bans_command()).await?;
        let reply = handle.command(command).await?;
        Ok(inner.call(adapter, move |s| s.parse_bans(&reply)).await?)
    }

    /// Sends `commands` over `handle`, in order.
    async fn send_all(handle: &RconHandle, commands: Vec<String>) -> Result<(), BanError> {
        for command in commands {
            handle.command(command).await?;
        }
        Ok(())
    }

    /// Lifts every entry of the game's list that bans `identity` (one at a time: lifting
    /// one may renumber the rest).
    async fn lift_in_game(
        &self,
        adapter: &Arc<LoadedAdapter>,
        handle: &RconHandle,
        identity: &str,
    ) -> Result<(), BanError> {
        const MOST: usize = 16;
        for _ in 0..MOST {
            let listed = self.game_bans(adapter, handle).await?;
            let Some(entry) = listed.into_iter().find(|e| same_identity(e, identity)) else {
                return Ok(());
            };
            let commands = self
                .servers
                .inner
                .call(adapter, move |s| s.unban_commands(&entry))
                .await?;
            Self::send_all(handle, commands).await?;
        }
        Err(BanError::Rcon(RconError::CommandFailed(format!(
            "the game still lists {identity} after {MOST} removals"
        ))))
    }

    /// Bans `subject` on `server`: checked by the adapter, stored, then pushed to the game
    /// if its RCon session is up (else at its next connection).
    pub async fn ban(
        &self,
        server: &Server,
        subject: BanSubject,
        order: BanOrder,
    ) -> Result<BanOutcome, BanError> {
        let (target, identity, player_name) = match subject {
            BanSubject::Online(key) => {
                let player = self.servers.inner.online_player(server.id, &key).await?;
                let identity = identity_of(player.unique_id.as_deref(), player.address.as_deref())
                    .ok_or_else(|| BanError::NoIdentity(player.name.clone()))?;
                let name = player.name.clone();
                let target = BanTarget::Online {
                    player: super::as_player(player),
                };
                (target, identity, Some(name))
            }
            BanSubject::Identity(identity) => (
                BanTarget::Identity {
                    identity: identity.clone(),
                },
                identity,
                None,
            ),
        };
        let adapter = self.ban_adapter(server)?;
        let request = BanRequest {
            target,
            minutes: order.minutes,
            reason: order.reason.clone(),
        };
        // The adapter checks the ban before it is kept: a ban the game would refuse is
        // refused now, not at every connection.
        let commands = self
            .servers
            .inner
            .call(&adapter, move |s| s.ban_commands(&request))
            .await?;
        let new = NewBan {
            identity,
            player_name,
            reason: order.reason,
            minutes: order.minutes,
            user_id: order.user_id,
            api_key_id: order.api_key_id,
        };
        let id = server.id;
        let ban = self
            .servers
            .inner
            .store
            .call(move |conn| bans::add(conn, id, &new))
            .await?;
        let Some(handle) = self.connected_rcon(id) else {
            return Ok(BanOutcome {
                ban: Some(ban),
                pushed: false,
            });
        };
        match Self::send_all(&handle, commands).await {
            Ok(()) => {
                let ban_id = ban.id;
                let ban = self
                    .servers
                    .inner
                    .store
                    .call(move |conn| {
                        bans::mark_pushed(conn, id, &[ban_id])?;
                        bans::get(conn, id, ban_id)
                    })
                    .await?;
                counters::add(&counters::BANS_PUSHED, 1);
                Ok(BanOutcome {
                    ban: Some(ban),
                    pushed: true,
                })
            }
            Err(e) => {
                counters::add(&counters::BAN_PUSH_FAILURES, 1);
                tracing::warn!(server_id = id, "a kept ban did not reach the game yet: {e}");
                Ok(BanOutcome {
                    ban: Some(ban),
                    pushed: false,
                })
            }
        }
    }

    /// Lifts a ban: a kept one is lifted in the store first, then in the game if its RCon
    /// session is up (else at its next connection); a game-only entry needs the session.
    pub async fn unban(&self, server: &Server, which: BanRef) -> Result<BanOutcome, BanError> {
        let adapter = self.ban_adapter(server)?;
        let id = server.id;
        match which {
            BanRef::Kept(ban_id) => {
                let ban = self
                    .servers
                    .inner
                    .store
                    .call(move |conn| bans::lift(conn, id, ban_id))
                    .await?;
                let Some(handle) = self.connected_rcon(id) else {
                    return Ok(BanOutcome {
                        ban: Some(ban),
                        pushed: false,
                    });
                };
                match self.lift_in_game(&adapter, &handle, &ban.identity).await {
                    Ok(()) => {
                        self.servers
                            .inner
                            .store
                            .call(move |conn| bans::forget(conn, id, ban_id))
                            .await?;
                        Ok(BanOutcome {
                            ban: Some(ban),
                            pushed: true,
                        })
                    }
                    Err(e) => {
                        counters::add(&counters::BAN_PUSH_FAILURES, 1);
                        tracing::warn!(server_id = id, "a lifted ban is still in the game: {e}");
                        Ok(BanOutcome {
                            ban: Some(ban),
                            pushed: false,
                        })
                    }
                }
            }
            BanRef::Game(game_id) => {
                let handle = self.connected_rcon(id).ok_or(BanError::NoRcon)?;
                let entry = self
                    .game_bans(&adapter, &handle)
                    .await?
                    .into_iter()
                    .find(|b| b.id == game_id)
                    .ok_or_else(|| {
                        BanError::Store(StoreError::NotFound(format!("ban game:{game_id}")))
                    })?;
                let commands = self
                    .servers
                    .inner
                    .call(&adapter, move |s| s.unban_commands(&entry))
                    .await?;
                Self::send_all(&handle, commands).await?;
                Ok(BanOutcome {
                    ban: None,
                    pushed: true,
                })
            }
        }
    }

    /// The server's bans: the kept ones, merged with the game's list when its RCon session
    /// is up. Kept bans the game lists are recorded as pushed.
    pub async fn list(&self, server: &Server) -> Result<BanList, BanError> {
        let adapter = self.ban_adapter(server)?;
        let id = server.id;
        let kept = self
            .servers
            .inner
            .store
            .call(move |conn| bans::list(conn, id))
            .await?;
        let game = match self.connected_rcon(id) {
            Some(handle) => match self.game_bans(&adapter, &handle).await {
                Ok(list) => Some(list),
                Err(e) => {
                    tracing::warn!(server_id = id, "cannot read the game's ban list: {e}");
                    None
                }
            },
            None => None,
        };
        let Some(game) = game else {
            return Ok(BanList {
                kept: kept.into_iter().map(|b| (b, None)).collect(),
                game_only: Vec::new(),
                game_read: false,
            });
        };
        let seen: Vec<i64> = kept
            .iter()
            .filter(|b| b.pushed_at.is_none() && game.iter().any(|e| same_identity(e, &b.identity)))
            .map(|b| b.id)
            .collect();
        let kept = if seen.is_empty() {
            kept
        } else {
            self.servers
                .inner
                .store
                .call(move |conn| {
                    bans::mark_pushed(conn, id, &seen)?;
                    bans::list(conn, id)
                })
                .await?
        };
        let game_only = game
            .iter()
            .filter(|e| !kept.iter().any(|b| same_identity(e, &b.identity)))
            .cloned()
            .collect();
        let kept = kept
            .into_iter()
            .map(|b| {
                let listed = game.iter().any(|e| same_identity(e, &b.identity));
                (b, Some(listed))
            })
            .collect();
        Ok(BanList {
            kept,
            game_only,
            game_read: true,
        })
    }

    /// Brings the game's ban list in line with the kept one over a session that has just
    /// logged in: pushes the kept bans it lacks, lifts the lifted ones it still has.
    /// Failures are logged and counted; the next connection tries again.
    pub async fn sync(&self, server_id: i64, handle: &RconHandle) {
        let Ok(server) = self.servers.get(server_id).await else {
            return;
        };
        let Ok(adapter) = self.ban_adapter(&server) else {
            return;
        };
        let stored = self
            .servers
            .inner
            .store
            .call(move |conn| {
                bans::purge_expired(conn, server_id)?;
                Ok((bans::list(conn, server_id)?, bans::lifted(conn, server_id)?))
            })
            .await;
        let (kept, lifted) = match stored {
            Ok(stored) => stored,
            Err(e) => {
                tracing::warn!(server_id, "cannot read the kept bans: {e}");
                return;
            }
        };
        if kept.is_empty() && lifted.is_empty() {
            return;
        }
        let game = match self.game_bans(&adapter, handle).await {
            Ok(game) => game,
            Err(e) => {
                counters::add(&counters::BAN_PUSH_FAILURES, 1);
                tracing::warn!(server_id, "cannot read the game's ban list to sync it: {e}");
                return;
            }
        };
        let (mut taken, mut pushed, mut lifted_now, mut failed) = (Vec::new(), 0u64, 0u64, 0u64);
        for ban in kept {
            if game.iter().any(|e| same_identity(e, &ban.identity)) {
                taken.push(ban.id);
                continue;
            }
            let minutes = match ban.minutes_left {
                Some(0) => continue,
                left => left,
            };
            let request = BanRequest {
                target: BanTarget::Identity {
                    identity: ban.identity.clone(),
                },
                minutes,
                reason: ban.reason.clone(),
            };
            let sent = match self
                .servers
                .inner
                .call(&adapter, move |s| s.ban_commands(&request))
                .await
            {
                Ok(commands) => Self::send_all(handle, commands).await,
                Err(e) => Err(e.into()),
            };
            match sent {
                Ok(()) => {
                    taken.push(ban.id);
                    pushed += 1;
                }
                Err(e) => {
                    failed += 1;
                    tracing::warn!(server_id, ban = ban.id, "cannot push a kept ban: {e}");
                }
            }
        }
        for ban in lifted {
            if game.iter().any(|e| same_identity(e, &ban.identity))
                && let Err(e) = self.lift_in_game(&adapter, handle, &ban.identity).await
            {
                failed += 1;
                tracing::warn!(
                    server_id,
                    ban = ban.id,
                    "cannot lift a ban in the game: {e}"
                );
                continue;
            }
            let ban_id = ban.id;
            if let Err(e) = self
                .servers
                .inner
                .store
                .call(move |conn| bans::forget(conn, server_id, ban_id))
                .await
            {
                tracing::warn!(server_id, "cannot forget a lifted ban: {e}");
            }
            lifted_now += 1;
        }
        if !taken.is_empty()
            && let Err(e) = self
                .servers
                .inner
                .store
                .call(move |conn| bans::mark_pushed(conn, server_id, &taken))
                .await
        {
            tracing::warn!(server_id, "cannot record pushed bans: {e}");
        }
        counters::add(&counters::BANS_PUSHED, pushed);
        counters::add(&counters::BAN_PUSH_FAILURES, failed);
        if pushed + lifted_now + failed > 0 {
            tracing::info!(
                server_id,
                pushed,
                lifted = lifted_now,
                failed,
                "synced the game's ban list"
            );
        }
    }
}

/// Follows server `server_id`'s RCon session and syncs its bans each time it logs in, off
/// the player tracker's path. Ends when the session's driver stops.
pub(super) async fn sync_on_login(inner: Weak<Inner>, server_id: i64, handle: RconHandle) {
    let mut status = handle.status();
    let mut was_connected = false;
    loop {
        let now = status.borrow_and_update().clone();
        if now == RconStatus::Stopped {
            return;
        }
        let connected = now == RconStatus::Connected;
        if connected && !was_connected {
            let Some(inner) = inner.upgrade() else {
                return;
            };
            (Servers { inner }).bans().sync(server_id, &handle).await;
        }
        was_connected = connected;
        if status.changed().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(identity: &str) -> BanEntry {
        BanEntry {
            id: "0".into(),
            identity: identity.into(),
            minutes_left: None,
            reason: String::new(),
        }
    }

    #[test]
    fn identities_match_without_regard_to_case_or_spaces() {
        assert!(same_identity(&entry("ABCdef"), " abcDEF"));
        assert!(!same_identity(&entry("abc"), "abcd"));
    }

    #[test]
    fn an_online_player_is_kept_by_identity_else_by_address() {
        assert_eq!(
            identity_of(Some("u-1"), Some("10.0.0.1:2304")).as_deref(),
            Some("u-1")
        );
        assert_eq!(
            identity_of(Some(" "), Some("10.0.0.1:2304")).as_deref(),
            Some("10.0.0.1")
        );
        assert_eq!(
            identity_of(None, Some("[2001:db8::1]:27005")).as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(
            identity_of(None, Some("10.0.0.1")).as_deref(),
            Some("10.0.0.1")
        );
        assert_eq!(
            identity_of(None, Some("2001:db8::1")).as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(identity_of(None, None), None);
    }
}
