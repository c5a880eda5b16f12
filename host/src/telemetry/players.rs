//! Player tracking for one running server: who is on, kept current from the game's remote
//! console and its logs.
//!
//! With RCon, the tracker owns the server's RCon driver (one session, reconnecting with
//! backoff), asks for the player list every poll interval and shortly after a log reports
//! someone joining or leaving, and diffs the answer against who it knew; the logs then fill
//! in what the list lacks (an identity or address reported by a join or `player-identified`,
//! a departure's reason — kicked, banned, the message — for the row of that departure).
//! Without RCon, the logs' join and leave events are applied directly. Either way each arrival and departure
//! is recorded exactly once ([`store::players::apply`](crate::store::players::apply)) and
//! published on the bus: the new list as a `players` event, and each history row appended
//! (joined, left) as an `event`. A failed poll changes nothing: a server that does not answer is not
//! an empty server. Unsolicited RCon messages (chat, notices) become log lines of source
//! [`RCON_SOURCE`]. Console commands from the API use the same session ([`PlayerTracker::command`]).
//!
//! The tracker knows no game: commands and reply parsing come from the adapter.

use std::time::Duration;

use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::rcon::{RconError, RconHandle, RconStatus};
use crate::adapters::model::{GameEvent, Level, Player, PlayerRef};
use crate::adapters::{AdapterSession, blocking};
use crate::events::{Event, EventBus, EventKind};
use crate::store::Store;
use crate::store::logs::{self, NewLogLine};
use crate::store::players::{self, Change, OnlinePlayer};

/// How often the player list is asked for.
pub const DEFAULT_POLL: Duration = Duration::from_secs(10);
/// How soon after a join or leave in the logs the list is asked for.
pub const AFTER_LOG_EVENT: Duration = Duration::from_millis(500);
/// Log source name of unsolicited RCon messages.
pub const RCON_SOURCE: &str = "rcon";
/// How long what a log said about a player (an identity, a departure's reason) waits for
/// the RCon list to show that player arriving or leaving.
const LOG_NOTE_LIFETIME: Duration = Duration::from_secs(120);
/// At most this many such notes wait (the oldest go first).
const LOG_NOTES_KEPT: usize = 64;

/// The server's remote console, when it has one.
pub struct RconLink {
    /// The driver.
    pub handle: RconHandle,
    /// The driver's task (awaited when the tracker ends).
    pub task: JoinHandle<()>,
    /// A session of the server's adapter, for the players command and reply parsing. It
    /// keeps no adapter resources, so it gives its instance back after each poll: a running
    /// server holds an instance only for its parser and its RCon session.
    pub session: AdapterSession,
    /// Tasks that follow the session (pushing kept state when it logs in); they end when
    /// the driver stops and are awaited after it.
    pub followers: Vec<JoinHandle<()>>,
}

/// How a tracker ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The game process ended: everyone has left.
    ProcessEnded,
    /// The host is exiting; the game runs on and the next host run carries on from the
    /// stored list.
    Detach,
}

/// Handle to a server's tracker.
pub struct PlayerTracker {
    log_events: mpsc::UnboundedSender<GameEvent>,
    rcon: Option<RconHandle>,
    stop: Option<oneshot::Sender<Ending>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for PlayerTracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlayerTracker")
            .field("rcon", &self.rcon.is_some())
            .finish_non_exhaustive()
    }
}

impl PlayerTracker {
    /// Starts tracking server `server_id`: through `rcon` when given, else from log events
    /// only. Must be called inside a tokio runtime.
    pub fn spawn(
        server_id: i64,
        rcon: Option<RconLink>,
        poll: Duration,
        store: Store,
        bus: EventBus,
    ) -> Self {
        let (log_events, events_rx) = mpsc::unbounded_channel();
        let (stop, stopped) = oneshot::channel();
        let handle = rcon.as_ref().map(|link| link.handle.clone());
        let task = tokio::spawn(
            Tracker {
                server_id,
                online: Vec::new(),
                store,
                bus,
                poll,
                notes: LogNotes::default(),
            }
            .run(rcon, events_rx, stopped),
        );
        PlayerTracker {
            log_events,
            rcon: handle,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// A player event read from the server's logs.
    pub fn log_event(&self, event: GameEvent) {
        let _ = self.log_events.send(event);
    }

    /// Runs a console command over the server's RCon session and returns the reply.
    pub async fn command(&self, text: &str) -> Result<String, RconError> {
        match &self.rcon {
            Some(rcon) => rcon.command(text).await,
            None => Err(RconError::Stopped),
        }
    }

    /// The server's RCon session, when it has one.
    pub fn rcon(&self) -> Option<RconHandle> {
        self.rcon.clone()
    }

    /// The RCon session's status; none without RCon.
    pub fn rcon_status(&self) -> Option<RconStatus> {
        self.rcon.as_ref().map(|r| r.status().borrow().clone())
    }

    /// Ends tracking and waits for the last records to be stored.
    pub async fn finish(mut self, how: Ending) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(how);
        }
        if let Some(task) = self.task.take()
            && let Err(e) = task.await
        {
            tracing::error!("a player tracker failed: {e}");
        }
    }
}

struct Tracker {
    server_id: i64,
    /// Who is on, as last recorded.
    online: Vec<OnlinePlayer>,
    store: Store,
    bus: EventBus,
    poll: Duration,
    /// With RCon: what the logs said that the player list has not shown yet.
    notes: LogNotes,
}

impl Tracker {
    async fn run(
        mut self,
        mut rcon: Option<RconLink>,
        mut log_events: mpsc::UnboundedReceiver<GameEvent>,
        mut stop: oneshot::Receiver<Ending>,
    ) {
        let server_id = self.server_id;
        // A host restart carries on from the stored list: nobody joins twice.
        match self
            .store
            .call(move |c| players::online(c, server_id))
            .await
        {
            Ok(online) => self.online = online,
            Err(e) => tracing::warn!(server_id, "cannot read who is online: {e}"),
        }
        let mut messages = rcon.as_ref().map(|r| r.handle.messages());
        let (rcon, mut session) = match rcon.take() {
            Some(RconLink {
                handle,
                task,
                session,
                followers,
            }) => (Some((handle, task, followers)), Some(session)),
            None => (None, None),
        };
        let players_command = match session.take() {
            Some(mut s) => blocking(move || {
                let command = s.players_command();
                s.release();
                (s, command)
            })
            .await
            .ok()
            .and_then(|(s, command)| {
                session = Some(s);
                command.ok()
            }),
            None => None,
        };
        let mut next_poll = Instant::now() + Duration::from_secs(1);
        let ending = loop {
            let polling = rcon.is_some() && players_command.is_some() && session.is_some();
            tokio::select! {
                how = &mut stop => break how.unwrap_or(Ending::Detach),
                () = sleep_until(polling.then_some(next_poll)) => {
                    if let (Some((handle, _, _)), Some(command)) = (&rcon, &players_command) {
                        session = self.poll(handle, session.take(), command).await;
                    }
                    next_poll = Instant::now() + self.poll;
                }
                Some(event) = log_events.recv() => {
                    if polling {
                        next_poll = next_poll.min(Instant::now() + AFTER_LOG_EVENT);
                        self.note_log_event(event).await;
                    } else {
                        self.apply_log_event(event).await;
                    }
                }
                message = recv_message(messages.as_mut()) => match message {
                    Ok(text) => self.store_message(text).await,
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(server_id, "{n} RCon message(s) dropped");
                    }
                    Err(broadcast::error::RecvError::Closed) => messages = None,
                },
            }
        };
        if ending == Ending::ProcessEnded && !self.online.is_empty() {
            let change = Change {
                left: self
                    .online
                    .iter()
                    .map(|p| (p.clone(), Some("the server stopped".to_string())))
                    .collect(),
                ..Change::default()
            };
            self.record(change).await;
        }
        if let Some((handle, task, followers)) = rcon {
            handle.stop();
            let _ = task.await;
            drop(handle);
            for follower in followers {
                let _ = follower.await;
            }
        }
    }

    /// Asks for the player list and records what changed. Gives the session back (none if
    /// its blocking call could not finish).
    async fn poll(
        &mut self,
        handle: &RconHandle,
        session: Option<AdapterSession>,
        command: &str,
    ) -> Option<AdapterSession> {
        let session = session?;
        let reply = match handle.command(command).await {
            Ok(reply) => reply,
            // Not connected, timed out: nothing is known, nothing changes.
            Err(_) => return Some(session),
        };
        let (session, parsed) = blocking(move || {
            let mut session = session;
            let parsed = session.parse_players(&reply);
            // Polls are seconds apart: between them the server holds no instance for this.
            session.release();
            (session, parsed)
        })
        .await
        .ok()?;
        match parsed {
            Ok(list) => {
                let mut change = diff(&self.online, list);
                self.notes.complete(&mut change, std::time::Instant::now());
                if !change.is_empty() {
                    self.record(change).await;
                }
            }
            Err(e) => tracing::warn!(
                server_id = self.server_id,
                "the adapter could not read the player list: {e}"
            ),
        }
        Some(session)
    }

    /// With RCon, whose list says who is on: a log event fills in what the list lacks — an
    /// identity or address for a player online now (or when the list shows them), a
    /// departure's reason for when the list shows them gone.
    async fn note_log_event(&mut self, event: GameEvent) {
        let now = std::time::Instant::now();
        let (who, unique_id) = match event {
            GameEvent::PlayerIdentified { player, value, .. } => (player, Some(value)),
            GameEvent::PlayerJoined { player } => {
                let id = player.unique_id.clone();
                (player, id)
            }
            GameEvent::PlayerLeft {
                player,
                departure,
                reason,
            } => {
                if let Some(why) = departure_reason(&departure, reason) {
                    self.notes.departed(player, why, now);
                }
                return;
            }
            _ => return,
        };
        let unique_id = unique_id.filter(|id| !id.is_empty());
        let address = who.address.clone().filter(|a| !a.is_empty());
        if unique_id.is_none() && address.is_none() {
            return;
        }
        match find(&self.online, &who).cloned() {
            Some(known) => {
                if let Some(filled) = fill(&known, unique_id.as_deref(), address.as_deref()) {
                    self.record(Change {
                        updated: vec![filled],
                        ..Change::default()
                    })
                    .await;
                }
            }
            None => self.notes.identified(who, unique_id, address, now),
        }
    }

    /// Without RCon: a join or leave in the logs is the change itself.
    async fn apply_log_event(&mut self, event: GameEvent) {
        let change = match event {
            GameEvent::PlayerJoined { player } => {
                let slot = player.slot.clone().unwrap_or_else(|| player.name.clone());
                let known = self
                    .online
                    .iter()
                    .any(|p| p.slot == slot && p.name == player.name);
                if known {
                    return;
                }
                Change {
                    joined: vec![OnlinePlayer {
                        key: player_key(&slot, &player.name, player.unique_id.as_deref()),
                        slot,
                        name: player.name,
                        unique_id: player.unique_id,
                        address: player.address,
                        ping_ms: None,
                        joined_at: String::new(),
                    }],
                    ..Change::default()
                }
            }
            GameEvent::PlayerLeft {
                player,
                departure,
                reason,
            } => {
                let Some(gone) = self.online.iter().find(|p| {
                    player.slot.as_ref().is_some_and(|s| *s == p.slot)
                        || (player.unique_id.is_some() && player.unique_id == p.unique_id)
                        || p.name == player.name
                }) else {
                    return;
                };
                let why = departure_reason(&departure, reason);
                Change {
                    left: vec![(gone.clone(), why)],
                    ..Change::default()
                }
            }
            _ => return,
        };
        self.record(change).await;
    }

    async fn record(&mut self, change: Change) {
        let server_id = self.server_id;
        let published = change.clone();
        match self
            .store
            .call(move |conn| players::apply(conn, server_id, &change))
            .await
        {
            Ok(applied) => {
                self.online = applied.online.clone();
                self.bus.publish(Event::new(
                    server_id,
                    EventKind::Players {
                        online: applied.online,
                        joined: published.joined.into_iter().map(|p| p.name).collect(),
                        left: published.left.into_iter().map(|(p, _)| p.name).collect(),
                    },
                ));
                // The history rows too, so a dashboard's timeline shows "X joined" live.
                for event in applied.events {
                    self.bus
                        .publish(Event::new(server_id, EventKind::ServerEvent { event }));
                }
            }
            Err(e) => tracing::error!(server_id, "cannot record player changes: {e}"),
        }
    }

    async fn store_message(&self, text: String) {
        let server_id = self.server_id;
        let line = NewLogLine {
            source: RCON_SOURCE.to_string(),
            at: crate::time::now_millis(),
            level: Level::Info,
            game_time: None,
            text,
            events: Vec::new(),
        };
        // Published on the store's thread, so the bus carries the server's lines in seq
        // order (see the log pipeline).
        let bus = self.bus.clone();
        match self
            .store
            .call(move |conn| {
                let lines = logs::append(conn, server_id, vec![line], &[])?;
                bus.publish(Event::new(server_id, EventKind::Log { lines }));
                Ok(())
            })
            .await
        {
            Ok(()) => {}
            Err(e) => tracing::error!(server_id, "cannot store an RCon message: {e}"),
        }
    }
}

/// Handles `events` as a tracker of server `server_id` with RCon does (the player list, as
/// stored, is the truth; the events fill in what it lacks), without a session to poll.
#[cfg(test)]
pub(crate) async fn note_as_with_rcon(
    server_id: i64,
    store: Store,
    bus: EventBus,
    events: Vec<GameEvent>,
) {
    let online = store
        .call(move |c| players::online(c, server_id))
        .await
        .unwrap_or_default();
    let mut tracker = Tracker {
        server_id,
        online,
        store,
        bus,
        poll: DEFAULT_POLL,
        notes: LogNotes::default(),
    };
    for event in events {
        tracker.note_log_event(event).await;
    }
}

/// What a history row says about a departure: nothing for a plain disconnect, else the
/// reason given, else how they left (`kicked`, `banned`).
fn departure_reason(departure: &str, reason: Option<String>) -> Option<String> {
    match (departure, reason.filter(|r| !r.is_empty())) {
        ("disconnected", None) => None,
        (how, None) => Some(how.to_string()),
        (_, Some(reason)) => Some(reason),
    }
}

/// The player among `online` a log event names: by slot, else by unique id, else by name.
fn find<'a>(online: &'a [OnlinePlayer], who: &PlayerRef) -> Option<&'a OnlinePlayer> {
    let by_slot = who
        .slot
        .as_ref()
        .and_then(|slot| online.iter().find(|p| p.slot == *slot));
    let by_id = || {
        who.unique_id
            .as_ref()
            .filter(|id| !id.is_empty())
            .and_then(|id| online.iter().find(|p| p.unique_id.as_ref() == Some(id)))
    };
    let by_name = || online.iter().find(|p| p.name == who.name);
    by_slot.or_else(by_id).or_else(by_name)
}

/// `player` with the identity and address it lacks filled in; none when nothing is new.
fn fill(
    player: &OnlinePlayer,
    unique_id: Option<&str>,
    address: Option<&str>,
) -> Option<OnlinePlayer> {
    let mut filled = player.clone();
    if filled.unique_id.is_none() {
        filled.unique_id = unique_id.map(String::from);
    }
    if filled.address.is_none() {
        filled.address = address.map(String::from);
    }
    (filled != *player).then_some(filled)
}

/// What the logs said about players the RCon list has not shown arriving or leaving yet.
#[derive(Debug, Default)]
struct LogNotes {
    /// Identities and addresses of players not (yet) listed.
    identities: Vec<(
        PlayerRef,
        Option<String>,
        Option<String>,
        std::time::Instant,
    )>,
    /// Departures with a reason, for when the list shows them gone.
    departures: Vec<(PlayerRef, String, std::time::Instant)>,
}

impl LogNotes {
    fn identified(
        &mut self,
        who: PlayerRef,
        unique_id: Option<String>,
        address: Option<String>,
        now: std::time::Instant,
    ) {
        self.identities.push((who, unique_id, address, now));
        if self.identities.len() > LOG_NOTES_KEPT {
            self.identities.remove(0);
        }
    }

    fn departed(&mut self, who: PlayerRef, why: String, now: std::time::Instant) {
        self.departures.push((who, why, now));
        if self.departures.len() > LOG_NOTES_KEPT {
            self.departures.remove(0);
        }
    }

    /// Completes `change` (from the RCon list) with the notes that concern it, each used
    /// once: arrivals get identities and addresses they lack, departures their reason.
    fn complete(&mut self, change: &mut Change, now: std::time::Instant) {
        let fresh =
            |at: &std::time::Instant| now.saturating_duration_since(*at) < LOG_NOTE_LIFETIME;
        self.identities.retain(|(_, _, _, at)| fresh(at));
        self.departures.retain(|(_, _, at)| fresh(at));
        for joined in &mut change.joined {
            let found = self
                .identities
                .iter()
                .rposition(|(who, _, _, _)| find(std::slice::from_ref(joined), who).is_some());
            if let Some(i) = found {
                let (_, unique_id, address, _) = self.identities.remove(i);
                if let Some(filled) = fill(joined, unique_id.as_deref(), address.as_deref()) {
                    *joined = filled;
                }
            }
        }
        for (gone, why) in &mut change.left {
            if why.is_some() {
                continue;
            }
            let found = self
                .departures
                .iter()
                .rposition(|(who, _, _)| find(std::slice::from_ref(gone), who).is_some());
            if let Some(i) = found {
                *why = Some(self.departures.remove(i).1);
            }
        }
    }
}

/// The host's key for a player on a server: their stable identity when the game reports one,
/// else their slot and name.
pub fn player_key(slot: &str, name: &str, unique_id: Option<&str>) -> String {
    match unique_id.filter(|id| !id.is_empty()) {
        Some(id) => format!("id:{id}"),
        None => format!("slot:{slot}:{name}"),
    }
}

/// Who arrived, left or changed between `before` and the list `now`. A player is the same
/// connection when the slot matches and so does their identity (or, without one, their
/// name); a reused slot is a departure and an arrival.
pub fn diff(before: &[OnlinePlayer], now: Vec<Player>) -> Change {
    let mut change = Change::default();
    let mut matched = vec![false; before.len()];
    for p in now {
        let found = before.iter().enumerate().find(|(i, o)| {
            !matched[*i]
                && o.slot == p.slot
                && match (&o.unique_id, &p.unique_id) {
                    (Some(a), Some(b)) => a == b,
                    _ => o.name == p.name,
                }
        });
        match found {
            Some((i, old)) => {
                matched[i] = true;
                let now = OnlinePlayer {
                    key: old.key.clone(),
                    slot: p.slot,
                    name: p.name,
                    unique_id: p.unique_id.or_else(|| old.unique_id.clone()),
                    address: p.address.or_else(|| old.address.clone()),
                    ping_ms: p.ping_ms,
                    joined_at: old.joined_at.clone(),
                };
                if now != *old {
                    change.updated.push(now);
                }
            }
            None => change.joined.push(OnlinePlayer {
                key: player_key(&p.slot, &p.name, p.unique_id.as_deref()),
                slot: p.slot,
                name: p.name,
                unique_id: p.unique_id,
                address: p.address,
                ping_ms: p.ping_ms,
                joined_at: String::new(),
            }),
        }
    }
    for (old, seen) in before.iter().zip(matched) {
        if !seen {
            change.left.push((old.clone(), None));
        }
    }
    change
}

async fn recv_message(
    messages: Option<&mut broadcast::Receiver<String>>,
) -> Result<String, broadcast::error::RecvError> {
    match messages {
        Some(messages) => messages.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
