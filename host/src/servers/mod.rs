//! The host's game servers: where intent (the store), game knowledge (the adapters), processes
//! (the supervisors) and work (the job queue) meet. This module knows no game: everything
//! game-specific comes from the server's adapter.
//!
//! [`Servers`] is the cheap-to-clone handle the app state holds. It keeps what every server
//! shares — the store, the adapters, the sealed secrets, the event bus and the recent log
//! lines — and one supervisor per server (`supervisor`, `restarts`, `detach_all` at exit).
//! The work is done by owners named for what they own, each reached from the handle and each
//! with its own error:
//!
//! - [`settings::Settings`] (`settings()`): creating a server, changing its settings and
//!   policies, its settings shown without secrets; [`settings::SettingsError`].
//! - [`plan::Plans`] (`plans()`): the adapter's plans for a start, an install or a reattach
//!   ([`plan::Purpose`]), and writing the rendered files; [`plan::PlanError`].
//! - [`reattach::Reattach`] (`reattach()`): finding the games a previous host run left
//!   running; [`reattach::ReattachError`].
//! - [`live::LiveSessions`] (`live()`): each running server's log pipeline, player tracker
//!   and RCon session, and the console and kicks through them; [`live::LiveError`].
//! - [`bans::Bans`] (`bans()`): bans kept by the host and pushed to the game;
//!   [`bans::BanError`].
//! - [`content::Content`] (`content()`): missions, mods, Workshop items;
//!   [`content::ContentError`].
//! - [`leftovers::Leftovers`] (`leftovers()`): what a deleted server leaves in its game's
//!   shared install; [`leftovers::LeftoversError`].
//!
//! Besides them: [`executor`] carries out jobs with the owners, [`reconcile`] is the drift
//! check, [`observer`] records what supervisors observe, [`paths`] the servers' directories,
//! [`trust`] who may decide what a server runs. A new feature (backups, schedules,
//! blueprints, files) gets its own folder and its own handle in the app state; it does not
//! grow this module.

pub mod bans;
pub mod content;
pub mod executor;
pub mod leftovers;
pub mod live;
pub mod observer;
pub mod paths;
pub mod plan;
pub mod reattach;
pub mod reconcile;
pub mod settings;
pub mod trust;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;

use crate::adapters::model::{Context, FieldError, Player, Setting};
use crate::adapters::{AdapterError, AdapterRuntime, AdapterSession, LoadedAdapter};
use crate::events::EventBus;
use crate::events::recent::RecentLogs;
use crate::secrets::{SecretBox, SecretError};
use crate::store::players::{self as store_players, OnlinePlayer};
use crate::store::servers::{self, ActualState, DesiredState, Server};
use crate::store::{Store, StoreError};
use crate::supervisor::server::{RestartPolicy, RestartStatus, ServerState, ServerSupervisor};
use crate::telemetry::players::{self, PlayerTracker};
use crate::telemetry::watch::DirWatcher;
use live::ProcessNote;
use observer::{RconStopActions, StoreObserver};
use paths::ServerDirs;
pub use trust::Authority;

/// How many recent log lines per server are kept in memory.
pub const RECENT_LINES: usize = 200;

/// Pause between a crash and the automatic restart.
const RESTART_BACKOFF: Duration = Duration::from_secs(2);

/// No adapter with this id is installed: a request named one that never was, or a server's
/// adapter has been removed since the server was created.
#[derive(Debug, thiserror::Error)]
#[error("no adapter with id `{0}` is installed")]
pub struct UnknownAdapter(pub String);

/// Why a server's stored settings could not be read for its adapter. Every owner that
/// plans with the stored settings maps it into its own error.
#[derive(Debug, thiserror::Error)]
pub enum Unreadable {
    /// A stored secret could not be opened.
    #[error(transparent)]
    Secrets(#[from] SecretError),
    /// The stored settings no longer fit the adapter's schema; every problem, by field.
    #[error("the settings are invalid ({} problem(s))", .0.len())]
    Invalid(Vec<FieldError>),
}

/// Shared handle on every server of the host. Cheap to clone.
#[derive(Clone)]
pub struct Servers {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    adapters: AdapterRuntime,
    secrets: SecretBox,
    data_dir: PathBuf,
    observer: Arc<StoreObserver>,
    actions: Arc<RconStopActions>,
    supervisors: Mutex<HashMap<i64, ServerSupervisor>>,
    /// Where stored log lines, players, metrics, states, server events and jobs are
    /// published.
    bus: EventBus,
    /// The last lines of each server's log, for new subscribers.
    recent: RecentLogs,
    /// The one file-system watcher every log pipeline shares.
    watcher: DirWatcher,
    /// To the task that runs the log pipelines and player trackers.
    process_notes: mpsc::UnboundedSender<ProcessNote>,
    /// Each running server's player tracker (and with it its RCon session).
    trackers: Mutex<HashMap<i64, PlayerTracker>>,
    /// How often trackers ask for the player list, in ms.
    player_poll_ms: AtomicU64,
    /// The largest mission upload accepted, in bytes.
    upload_limit: AtomicU64,
}

impl Servers {
    /// The servers of a host. Must be called inside a tokio runtime (it starts the task that
    /// records supervisor observations).
    pub fn new(
        store: Store,
        adapters: AdapterRuntime,
        secrets: SecretBox,
        data_dir: &Path,
    ) -> Self {
        let (process_notes, notes) = mpsc::unbounded_channel();
        let bus = EventBus::new();
        let recent = RecentLogs::spawn(&bus, RECENT_LINES);
        let inner = Arc::new(Inner {
            observer: StoreObserver::start(store.clone(), process_notes.clone(), bus.clone()),
            recent,
            actions: RconStopActions::new(adapters.clone()),
            store,
            adapters,
            secrets,
            data_dir: data_dir.to_path_buf(),
            supervisors: Mutex::new(HashMap::new()),
            bus,
            watcher: DirWatcher::new(),
            process_notes,
            trackers: Mutex::new(HashMap::new()),
            player_poll_ms: AtomicU64::new(
                u64::try_from(players::DEFAULT_POLL.as_millis()).unwrap_or(u64::MAX),
            ),
            upload_limit: AtomicU64::new(content::DEFAULT_UPLOAD_LIMIT),
        });
        live::spawn(Arc::downgrade(&inner), notes);
        Servers { inner }
    }

    /// Creating servers and changing their settings and policies ([`settings`]).
    pub fn settings(&self) -> settings::Settings {
        settings::Settings::new(self.clone())
    }

    /// The adapters' plans for each server: what a start, an install or a reattach needs
    /// ([`plan`]).
    pub fn plans(&self) -> plan::Plans {
        plan::Plans::new(self.clone())
    }

    /// What servers leave in their games' shared installs, removed when a server goes
    /// ([`leftovers`]).
    pub fn leftovers(&self) -> leftovers::Leftovers {
        leftovers::Leftovers::new(self.clone())
    }

    /// Reattaching, at host start, to the games the previous host run left running
    /// ([`reattach`]).
    pub fn reattach(&self) -> reattach::Reattach {
        reattach::Reattach::new(self.clone())
    }

    /// The live side of every running server: log pipelines, player trackers, RCon
    /// sessions, and the console and kicks through them ([`live`]).
    pub fn live(&self) -> live::LiveSessions {
        live::LiveSessions::new(self.clone())
    }

    /// The user-managed content of every server: missions, mods, Workshop items
    /// ([`content`]).
    pub fn content(&self) -> content::Content {
        content::Content::new(self.clone())
    }

    /// The bans of every server, kept by the host and pushed to the games ([`bans`]).
    pub fn bans(&self) -> bans::Bans {
        bans::Bans::new(self.clone())
    }

    /// The event bus live server events are published on.
    pub fn events(&self) -> &EventBus {
        &self.inner.bus
    }

    /// The last stored log lines of each server (up to [`RECENT_LINES`]), kept in memory
    /// from the bus so a new subscriber gets context without a database query.
    pub fn recent_logs(&self) -> &RecentLogs {
        &self.inner.recent
    }

    /// A directory only the host's user may enter, for files that live as long as one job
    /// step (e.g. a SteamCMD script holding a password); emptied at every host start.
    pub fn scratch_dir(&self) -> PathBuf {
        self.inner.data_dir.join(paths::SCRATCH_DIR)
    }

    /// The adapters servers are planned with.
    pub fn adapters(&self) -> &AdapterRuntime {
        &self.inner.adapters
    }

    /// The directories of the shared runtime of `adapter_id` (`runtimes/<adapter_id>/`), for
    /// work on the runtime itself: its `instance` belongs to no server and is never used.
    pub fn runtime_dirs(&self, adapter_id: &str) -> ServerDirs {
        ServerDirs::new(&self.inner.data_dir, 0, adapter_id, None)
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The stored server `id`.
    pub async fn get(&self, id: i64) -> Result<Server, StoreError> {
        self.inner
            .store
            .call(move |conn| servers::get(conn, id))
            .await
    }

    /// Records what the user wants the server to be.
    pub async fn set_desired(&self, id: i64, desired: DesiredState) -> Result<(), StoreError> {
        self.inner
            .store
            .call(move |conn| servers::set_desired_state(conn, id, desired))
            .await
    }

    /// The supervisor of `server`, started on first use in the state last recorded.
    pub fn supervisor(&self, server: &Server) -> ServerSupervisor {
        let mut supervisors = self
            .inner
            .supervisors
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        supervisors
            .entry(server.id)
            .or_insert_with(|| {
                let initial = match server.actual_state {
                    ActualState::Crashed => ServerState::Crashed {
                        exit: server.exit_code,
                        signal: None,
                    },
                    ActualState::Unmanaged => ServerState::Unmanaged,
                    _ => ServerState::Stopped,
                };
                ServerSupervisor::spawn(
                    server.id,
                    initial,
                    restart_policy(server),
                    self.inner.observer.clone(),
                    self.inner.actions.clone(),
                )
            })
            .clone()
    }

    /// How server `id`'s automatic restarts stand; none when no supervisor runs it yet
    /// (it has not been started, stopped or adopted by this host run).
    pub fn restarts(&self, id: i64) -> Option<RestartStatus> {
        self.inner
            .supervisors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .map(ServerSupervisor::restarts)
    }

    /// Forgets a server's supervisor (after its deletion).
    fn forget(&self, id: i64) {
        self.inner
            .supervisors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
        self.inner.actions.set_endpoint(id, None);
        self.inner.recent.forget(id);
    }

    /// Stops supervising and following logs (the games keep running, to be reattached by
    /// the next host run, whose logs resume where these stopped).
    pub async fn detach_all(&self) {
        let (done, detached) = tokio::sync::oneshot::channel();
        if self
            .inner
            .process_notes
            .send(ProcessNote::Detach { done })
            .is_ok()
        {
            let _ = detached.await;
        }
        let supervisors: Vec<ServerSupervisor> = self
            .inner
            .supervisors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain()
            .map(|(_, s)| s)
            .collect();
        for supervisor in supervisors {
            let _ = supervisor.shutdown().await;
        }
    }
}

impl Inner {
    /// `server`'s adapter, if it is still installed.
    fn adapter_of(&self, server: &Server) -> Result<Arc<LoadedAdapter>, UnknownAdapter> {
        self.adapters
            .get(&server.adapter_id)
            .ok_or_else(|| UnknownAdapter(server.adapter_id.clone()))
    }

    /// `server`'s directories.
    fn dirs(&self, server: &Server) -> ServerDirs {
        ServerDirs::new(
            &self.data_dir,
            server.id,
            &server.adapter_id,
            server.runtime_path.as_deref(),
        )
    }

    /// `server`'s stored settings with secrets opened, typed by its adapter's schema.
    fn typed_settings(
        &self,
        adapter: &LoadedAdapter,
        server: &Server,
    ) -> Result<Vec<Setting>, Unreadable> {
        let mut object = server.settings.as_object().cloned().unwrap_or_default();
        self.secrets.open_settings(&adapter.schema, &mut object)?;
        crate::adapters::settings::from_json(&adapter.schema, &Value::Object(object))
            .map_err(Unreadable::Invalid)
    }

    /// Runs `work` in a fresh session of `adapter` on the blocking pool (adapter calls never
    /// run on a runtime worker).
    async fn call<T: Send + 'static>(
        &self,
        adapter: &Arc<LoadedAdapter>,
        work: impl FnOnce(&mut AdapterSession) -> Result<T, AdapterError> + Send + 'static,
    ) -> Result<T, AdapterError> {
        self.adapters.call(Arc::clone(adapter), work).await
    }

    /// The player `key` (their key or slot) on server `id` now, if online.
    async fn online_player(&self, id: i64, key: &str) -> Result<OnlinePlayer, StoreError> {
        let key = key.to_string();
        let online = self
            .store
            .call(move |conn| store_players::online(conn, id))
            .await?;
        online
            .into_iter()
            .find(|p| p.key == key || p.slot == key)
            .ok_or_else(|| StoreError::NotFound(format!("player {key} online")))
    }

    /// Each running server's player tracker (and with it its RCon session).
    fn trackers(&self) -> MutexGuard<'_, HashMap<i64, PlayerTracker>> {
        self.trackers.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The restart policy `server`'s row asks for.
fn restart_policy(server: &Server) -> RestartPolicy {
    RestartPolicy {
        enabled: server.restart.enabled,
        max: server.restart.max,
        window: Duration::from_secs(u64::from(server.restart.window_secs)),
        backoff: RESTART_BACKOFF,
    }
}

/// The facts about server `id` its adapter plans with.
fn context(id: i64, dirs: &ServerDirs) -> Context {
    Context::new(id, &dirs.instance, &dirs.runtime)
}

/// An online player as the adapter's commands take them.
fn as_player(p: OnlinePlayer) -> Player {
    Player {
        slot: p.slot,
        name: p.name,
        unique_id: p.unique_id,
        address: p.address,
        ping_ms: p.ping_ms,
        connected_secs: None,
        details: Vec::new(),
    }
}

/// What an I/O error says of the storage, in words for a person (no path).
pub(crate) fn io_cause(error: &std::io::Error) -> String {
    match error.raw_os_error() {
        Some(code) => rustix::io::Errno::from_raw_os_error(code).to_string(),
        None => error.kind().to_string(),
    }
}

#[cfg(test)]
mod tests;
