//! Each running server's live side — its log pipeline and its player tracker (with the RCon
//! session) — started and ended with its process.
//!
//! The supervisors report process starts and ends (through the observer) as
//! [`ProcessNote`]s; one task handles them in order, so a restarted process's pipeline starts
//! only after the previous one has read its process's last lines. A pipeline follows the
//! logs the server's adapter declares plus the captured console output, feeds them to a
//! parser of the adapter's, tells the supervisor when the game reports it is ready, and hands
//! join and leave events to the tracker, which keeps the player list (see
//! [`telemetry::players`](crate::telemetry::players)).
//!
//! [`LiveSessions`] owns this, and what users do through a running server's session: its
//! console, its RCon status, who is online, kicking a player. It is reached as
//! [`Servers::live`]. (Bans, which the host keeps, are [`super::bans`].)

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError, Weak};
use std::time::{Duration, SystemTime};

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::{Inner, Servers, UnknownAdapter, Unreadable};
use crate::adapters::model::{GameEvent, LogLocation, LogSource};
use crate::adapters::{AdapterError, AdapterSession, ContractVersion, LogParser};
use crate::store::StoreError;
use crate::store::logs;
use crate::store::players::{self, OnlinePlayer};
use crate::store::servers::Server;
use crate::supervisor::console::console_log_path;
use crate::telemetry::pipeline::{Finish, LogPipeline, PipelineSpec, Source};
use crate::telemetry::players::{Ending, PlayerTracker, RconLink};
use crate::telemetry::rcon::{self, RconError, RconOptions, RconStatus, RconTarget};
use crate::telemetry::tail::{FileId, Position, Target};

/// Why a command over a server's live session (console, kick) or a look at it failed.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The database failed, or the player is not online.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The adapter refused (or failed) to make the commands.
    #[error(transparent)]
    Adapter(#[from] AdapterError),
    /// The server's adapter is no longer installed.
    #[error(transparent)]
    UnknownAdapter(#[from] UnknownAdapter),
    /// The server's adapter lacks a capability the operation needs.
    #[error("the adapter does not support `{0}`")]
    Unsupported(&'static str),
    /// The server has no remote console to talk to (its game has none, its settings turn it
    /// off, or it is not running).
    #[error("the server has no remote console running")]
    NoRcon,
    /// The remote console did not answer.
    #[error(transparent)]
    Rcon(#[from] RconError),
}

/// Why a running server's tracker or log pipeline could not start (logged: the server runs
/// on without it).
#[derive(Debug, thiserror::Error)]
enum FollowError {
    #[error(transparent)]
    Settings(#[from] Unreadable),
    #[error(transparent)]
    Adapter(#[from] AdapterError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The live side of every running server (see the module's text). Cheap to clone.
#[derive(Clone)]
pub struct LiveSessions {
    servers: Servers,
}

/// A change in which servers have a process.
#[derive(Debug)]
pub enum ProcessNote {
    /// A process started (`not_before`: when it was launched; none when it was reattached).
    Started {
        /// The server.
        server_id: i64,
        /// Logs last written before this are an earlier run's.
        not_before: Option<SystemTime>,
        /// Cancelled the moment this process ends (before anything is launched in its
        /// place): the RCon session started for it stops then, so it cannot reach the next
        /// process listening at the same address.
        ended: CancellationToken,
    },
    /// The server's process ended.
    Ended {
        /// The server.
        server_id: i64,
    },
    /// The host is exiting: stop every pipeline, leave the games running.
    Detach {
        /// Answered once every pipeline has stopped.
        done: oneshot::Sender<()>,
    },
}

/// Starts the task that keeps one pipeline per running server.
pub(super) fn spawn(inner: Weak<Inner>, notes: mpsc::UnboundedReceiver<ProcessNote>) {
    tokio::spawn(follow(inner, notes));
}

async fn follow(inner: Weak<Inner>, mut notes: mpsc::UnboundedReceiver<ProcessNote>) {
    let mut pipelines: HashMap<i64, LogPipeline> = HashMap::new();
    while let Some(note) = notes.recv().await {
        match note {
            ProcessNote::Started {
                server_id,
                not_before,
                ended,
            } => {
                let Some(inner) = inner.upgrade() else {
                    break;
                };
                let live = (Servers { inner }).live();
                if let Some(old) = pipelines.remove(&server_id) {
                    old.finish(Finish::ProcessEnded).await;
                }
                live.end_tracker(server_id, Ending::ProcessEnded).await;
                let server = match live.servers.get(server_id).await {
                    Ok(server) => server,
                    Err(e) => {
                        tracing::warn!(server_id, "cannot follow the server: {e}");
                        continue;
                    }
                };
                // The tracker first: the pipeline hands it join and leave events.
                match live.player_tracker(&server, &ended).await {
                    Ok(tracker) => live.add_tracker(server_id, tracker),
                    Err(e) => {
                        tracing::warn!(server_id, "cannot track the server's players: {e}");
                    }
                }
                match live.log_pipeline(&server, not_before).await {
                    Ok(pipeline) => {
                        pipelines.insert(server_id, pipeline);
                    }
                    Err(e) => {
                        tracing::warn!(server_id, "cannot follow the server's logs: {e}");
                    }
                }
            }
            ProcessNote::Ended { server_id } => {
                if let Some(pipeline) = pipelines.remove(&server_id) {
                    pipeline.finish(Finish::ProcessEnded).await;
                }
                if let Some(inner) = inner.upgrade() {
                    (Servers { inner })
                        .live()
                        .end_tracker(server_id, Ending::ProcessEnded)
                        .await;
                }
            }
            ProcessNote::Detach { done } => {
                for (_, pipeline) in pipelines.drain() {
                    pipeline.finish(Finish::Detach).await;
                }
                if let Some(inner) = inner.upgrade() {
                    let ids: Vec<i64> = inner.trackers().keys().copied().collect();
                    let live = (Servers { inner }).live();
                    for id in ids {
                        live.end_tracker(id, Ending::Detach).await;
                    }
                }
                let _ = done.send(());
            }
        }
    }
    for (_, pipeline) in pipelines.drain() {
        pipeline.finish(Finish::Detach).await;
    }
}

impl LiveSessions {
    pub(super) fn new(servers: Servers) -> Self {
        LiveSessions { servers }
    }

    /// How often running servers are asked for their player list (default 10 s); applies
    /// to servers started from now on.
    pub fn set_player_poll(&self, every: Duration) {
        let ms = u64::try_from(every.as_millis())
            .unwrap_or(u64::MAX)
            .max(100);
        self.servers
            .inner
            .player_poll_ms
            .store(ms, Ordering::Relaxed);
    }

    /// Runs a console command over server `id`'s RCon session and returns the reply.
    pub async fn console(&self, id: i64, command: &str) -> Result<String, LiveError> {
        let session = self
            .servers
            .inner
            .trackers()
            .get(&id)
            .and_then(PlayerTracker::rcon);
        let session = session.ok_or(LiveError::NoRcon)?;
        Ok(session.command(command).await?)
    }

    /// The status of server `id`'s RCon session; none when it has none running.
    pub fn rcon_status(&self, id: i64) -> Option<RconStatus> {
        self.servers
            .inner
            .trackers()
            .get(&id)
            .and_then(PlayerTracker::rcon_status)
    }

    /// Who is on server `id` now.
    pub async fn players(&self, id: i64) -> Result<Vec<OnlinePlayer>, LiveError> {
        Ok(self
            .servers
            .inner
            .store
            .call(move |conn| players::online(conn, id))
            .await?)
    }

    /// Kicks the online player `key` (their key or slot) with `reason`.
    pub async fn kick(&self, server: &Server, key: &str, reason: &str) -> Result<(), LiveError> {
        let online = self.servers.inner.online_player(server.id, key).await?;
        let player = super::as_player(online);
        let reason = reason.to_string();
        self.run_commands(server, move |s| s.kick_commands(&player, &reason))
            .await?;
        Ok(())
    }

    /// Runs the adapter's commands (made by `make` in a session of the server's adapter) over
    /// the server's RCon session, in order; returns the replies.
    async fn run_commands(
        &self,
        server: &Server,
        make: impl FnOnce(&mut AdapterSession) -> Result<Vec<String>, AdapterError> + Send + 'static,
    ) -> Result<Vec<String>, LiveError> {
        let adapter = self.servers.inner.adapter_of(server)?;
        if !adapter.description.has("rcon") {
            return Err(LiveError::Unsupported("rcon"));
        }
        let commands = self.servers.inner.call(&adapter, make).await?;
        let mut replies = Vec::with_capacity(commands.len());
        for command in commands {
            replies.push(self.console(server.id, &command).await?);
        }
        Ok(replies)
    }

    fn add_tracker(&self, server_id: i64, tracker: PlayerTracker) {
        let inner = &self.servers.inner;
        inner.actions.set_session(server_id, tracker.rcon());
        inner.trackers().insert(server_id, tracker);
    }

    async fn end_tracker(&self, server_id: i64, how: Ending) {
        let inner = &self.servers.inner;
        inner.actions.set_session(server_id, None);
        let tracker = inner.trackers().remove(&server_id);
        if let Some(tracker) = tracker {
            tracker.finish(how).await;
        }
    }

    /// Starts tracking `server`'s players: through its RCon when its adapter has one and
    /// its settings enable it, else from its logs. The RCon session stops when `ended` is
    /// cancelled (its process ended), even before the tracker is ended.
    async fn player_tracker(
        &self,
        server: &Server,
        ended: &CancellationToken,
    ) -> Result<PlayerTracker, FollowError> {
        let inner = &self.servers.inner;
        let mut link = None;
        if let Some(adapter) = inner.adapters.get(&server.adapter_id)
            && adapter.description.has("rcon")
        {
            let typed = inner.typed_settings(&adapter, server)?;
            let endpoint = inner
                .adapters
                .call(Arc::clone(&adapter), move |session| {
                    session.rcon_endpoint(&typed)
                })
                .await?;
            if let Some(connection) = endpoint {
                let target = RconTarget {
                    address: format!("{}:{}", connection.host, connection.port),
                    password: connection.password,
                };
                let runtime = inner.adapters.clone();
                let (handle, task) = rcon::spawn_until(
                    runtime.clone(),
                    Arc::clone(&adapter),
                    target,
                    RconOptions::default(),
                    ended.child_token(),
                );
                // Kept bans reach the game each time the session logs in.
                let follower = tokio::spawn(super::bans::sync_on_login(
                    Arc::downgrade(inner),
                    server.id,
                    handle.clone(),
                ));
                link = Some(RconLink {
                    handle,
                    task,
                    session: runtime.session(adapter),
                    followers: vec![follower],
                });
            }
        }
        let poll = Duration::from_millis(inner.player_poll_ms.load(Ordering::Relaxed));
        Ok(PlayerTracker::spawn(
            server.id,
            link,
            poll,
            inner.store.clone(),
            inner.bus.clone(),
        ))
    }

    /// Starts following `server`'s logs, from the stored positions.
    async fn log_pipeline(
        &self,
        server: &Server,
        not_before: Option<SystemTime>,
    ) -> Result<LogPipeline, FollowError> {
        let inner = &self.servers.inner;
        let server_id = server.id;
        let dirs = inner.dirs(server);
        let console = console_log_path(&dirs.console());
        let (declared, console_too, parser) = match inner.adapters.get(&server.adapter_id) {
            Some(adapter) => {
                let typed = inner.typed_settings(&adapter, server)?;
                let runtime = inner.adapters.clone();
                // A 0.1.0 adapter's console is followed whether it names it or not (that
                // contract said so); from 0.2.0 on, exactly the sources named.
                let console_too = adapter.contract() == ContractVersion::V0_1;
                // Without the adapter's sources the console is still followed, and without its
                // parser the lines are still stored as they are: logs are never dropped.
                crate::adapters::blocking(move || {
                    let (sources, console_too) =
                        match runtime.session(Arc::clone(&adapter)).log_sources(&typed) {
                            Ok(sources) => (sources, console_too),
                            Err(e) => {
                                tracing::warn!(server_id, "the adapter named no log sources: {e}");
                                (Vec::new(), true)
                            }
                        };
                    let parser = LogParser::new(runtime.session(adapter), typed)
                        .map_err(|e| {
                            tracing::warn!(server_id, "log lines are stored unparsed: {e}");
                        })
                        .ok();
                    (sources, console_too, parser)
                })
                .await?
            }
            // The adapter was removed while its server ran: keep the console at least.
            None => (Vec::new(), true, None),
        };
        let sources = sources(declared, |dir| dirs.resolve(dir), console, console_too);
        let resume = inner
            .store
            .call(move |conn| logs::cursors(conn, server_id))
            .await?
            .into_iter()
            .map(|c| {
                let position = Position {
                    path: c.path.into(),
                    id: FileId {
                        device: c.device,
                        inode: c.inode,
                    },
                    offset: c.offset,
                };
                (c.source, position)
            })
            .collect();
        let spec = PipelineSpec {
            server_id,
            sources,
            resume,
            not_before,
        };
        let weak = Arc::downgrade(inner);
        let on_event = Arc::new(move |id: i64, event: &GameEvent| {
            let Some(inner) = weak.upgrade() else {
                return;
            };
            if *event != GameEvent::ServerReady {
                if let Some(tracker) = inner
                    .trackers
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get(&id)
                {
                    tracker.log_event(event.clone());
                }
                return;
            }
            let supervisor = inner
                .supervisors
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&id)
                .cloned();
            if let Some(supervisor) = supervisor {
                tokio::spawn(async move {
                    // Refused when the server is not starting (a repeated ready line).
                    let _ = supervisor.mark_ready().await;
                });
            }
        });
        Ok(LogPipeline::spawn(
            spec,
            parser,
            inner.store.clone(),
            inner.bus.clone(),
            inner.watcher.clone(),
            on_event,
        ))
    }
}

/// The logs to follow: those the adapter declares (paths resolved by `resolve`, which
/// refuses escapes from the server's directories), plus — when `console_too` — the captured
/// console output if the adapter did not name it.
fn sources(
    declared: Vec<LogSource>,
    resolve: impl Fn(&crate::adapters::model::PathRef) -> Result<std::path::PathBuf, String>,
    console: std::path::PathBuf,
    console_too: bool,
) -> Vec<Source> {
    let mut out = Vec::new();
    let mut has_console = false;
    for source in declared {
        let target = match source.location {
            LogLocation::Console => {
                has_console = true;
                Target::File(console.clone())
            }
            LogLocation::NewestFile { dir, pattern } => match resolve(&dir) {
                Ok(dir) => Target::Newest { dir, pattern },
                Err(e) => {
                    tracing::warn!(source = source.name, "log source skipped: {e}");
                    continue;
                }
            },
        };
        out.push(Source {
            name: source.name,
            target,
        });
    }
    if console_too && !has_console {
        let taken = |name: &str| out.iter().any(|s| s.name == name);
        let name = ["console", "stdout", "captured-output"]
            .into_iter()
            .find(|name| !taken(name))
            .unwrap_or("captured-output");
        out.push(Source {
            name: name.to_string(),
            target: Target::File(console),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::adapters::model::{PathRef, Root};

    fn newest(name: &str, dir: &str) -> LogSource {
        LogSource {
            name: name.into(),
            location: LogLocation::NewestFile {
                dir: PathRef {
                    root: Root::Instance,
                    path: dir.into(),
                },
                pattern: "*.log".into(),
            },
        }
    }

    fn resolve(dir: &PathRef) -> Result<PathBuf, String> {
        if dir.path.contains("..") {
            Err("escapes".into())
        } else {
            Ok(Path::new("/srv/1").join(&dir.path))
        }
    }

    #[test]
    fn from_0_2_0_on_exactly_the_named_sources_are_followed() {
        let console = PathBuf::from("/srv/1/console/console.log");
        let got = sources(
            vec![newest("game", "logs")],
            resolve,
            console.clone(),
            false,
        );
        let names: Vec<&str> = got.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["game"], "the console is not added");
        let named = vec![LogSource {
            name: "console".into(),
            location: LogLocation::Console,
        }];
        let got = sources(named, resolve, console.clone(), false);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].target, Target::File(console));
    }

    #[test]
    fn a_0_1_0_adapters_console_is_always_followed_under_a_free_name() {
        let console = PathBuf::from("/srv/1/console/console.log");
        let declared = vec![
            LogSource {
                name: "out".into(),
                location: LogLocation::Console,
            },
            newest("game", "logs"),
        ];
        let got = sources(declared, resolve, console.clone(), true);
        assert_eq!(got.len(), 2, "a declared console is not added twice");
        assert_eq!(got[0].target, Target::File(console.clone()));

        let got = sources(
            vec![newest("console", "game"), newest("bad", "../../etc")],
            resolve,
            console.clone(),
            true,
        );
        let names: Vec<&str> = got.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["console", "stdout"], "escapes are skipped");
        assert_eq!(got[1].target, Target::File(console));
    }
}
