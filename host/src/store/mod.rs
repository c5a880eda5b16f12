//! The host's durable state: one SQLite database in the data directory (`garrison.db`).
//!
//! Every user intent (a desired state, a job) becomes a row here before anything acts on it,
//! and the supervisor's observations (actual state, pid) are written back, so a restarted host
//! can reconcile instead of guessing.
//!
//! # Where blocking is allowed
//!
//! rusqlite is synchronous, so **SQLite never runs on a tokio worker thread**. A [`Store`] is a
//! cheap handle to one dedicated OS thread that owns the only [`rusqlite::Connection`]; callers
//! ship a closure to that thread with [`Store::call`] (async) or [`Store::call_blocking`] (code
//! outside the runtime: the CLI, start-up) and get its result back. One writer thread also
//! serialises every write, which is what makes job claiming and log sequencing simple.
//!
//! Closures must only do database work: no `.await`, no network, no waiting on other locks,
//! and nothing slow, because every other caller queues behind them. A closure runs to the end
//! even if the future that sent it is dropped, so an acknowledged write is never half-done.
//!
//! Layout: `migrations` brings the schema up to date at open; `servers`, `jobs`, `events`,
//! `logs`, `players`, `metrics`, `users`, `grants`, `api_keys`, `audit`, `bans` and
//! `runtimes` (what each game's shared install holds) are one aggregate each, as plain
//! functions over a `Connection` so that several compose inside one call (and one
//! transaction); `retention` prunes old history in batches; `snapshot` keeps
//! the live servers' rows in memory between changes (seen through SQLite's update hook).

pub mod api_keys;
pub mod audit;
pub mod bans;
mod error;
pub mod events;
pub mod grants;
mod group_commit;
pub mod jobs;
pub mod logs;
pub mod metrics;
pub mod migrations;
pub mod players;
pub mod retention;
pub mod runtimes;
pub mod servers;
mod snapshot;
pub(crate) mod text;
pub mod users;

#[cfg(test)]
mod auth_tests;
#[cfg(test)]
mod tests;

use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use rusqlite::Connection;

pub use error::StoreError;
pub use events::{NewEvent, ServerEvent};
pub use jobs::{
    CancelOutcome, Job, JobFilter, JobKind, JobLogLine, JobOutcome, JobState, LogStream, NewJob,
};
pub use servers::{
    ActualState, DesiredState, NewServer, Observed, ProcessIdentity, RestartPolicy, Server,
};
pub use text::UnknownValue;
pub use users::{Role, User};

/// How long a statement waits for a lock held by another connection (another process, or a
/// future read pool) before failing with `SQLITE_BUSY`.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Work shipped to the store's thread.
type Task = Box<dyn FnOnce(&mut Connection) + Send>;

/// Handle to the database thread. Cheap to clone; the thread (and the connection) end when
/// the last handle is dropped.
#[derive(Clone)]
pub struct Store {
    tasks: mpsc::Sender<Task>,
    /// The live servers' rows between changes (see [`snapshot`]).
    summaries: Arc<snapshot::Summaries>,
    /// Log lines waiting to be written together (see [`group_commit`]).
    log_queue: Arc<group_commit::LogQueue>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path`, configures it (WAL, foreign keys,
    /// busy timeout, `synchronous=NORMAL`), applies pending migrations and starts the store's
    /// thread. Blocking: call it before the runtime starts or from `spawn_blocking`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        owner_only(path)?;
        let conn = Connection::open(path)?;
        // The vacuum mode first: on a new, empty file it is free to set now, and once the
        // file is in WAL mode it takes a rebuild.
        incremental_vacuum(&conn)?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(path = %path.display(), mode, "SQLite refused WAL journaling");
        }
        Self::start(conn)
    }

    /// A private in-memory database with the full schema, for tests.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Self::start(Connection::open_in_memory()?)
    }

    fn start(mut conn: Connection) -> Result<Store, StoreError> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        incremental_vacuum(&conn)?;
        let applied = migrations::apply(&mut conn)?;
        if !applied.is_empty() {
            tracing::info!(?applied, "applied database migrations");
        }
        let summaries = Arc::new(snapshot::Summaries::default());
        let watched = Arc::clone(&summaries);
        conn.update_hook(Some(move |_, _: &str, table: &str, _| {
            watched.changed(table)
        }))?;
        let (tasks, queue) = mpsc::channel::<Task>();
        std::thread::Builder::new()
            .name("garrison-store".into())
            .spawn(move || {
                // Ends when every sender (every `Store` handle) is gone.
                for task in queue {
                    task(&mut conn);
                }
            })
            .map_err(StoreError::Thread)?;
        Ok(Store {
            tasks,
            summaries,
            log_queue: Arc::default(),
        })
    }

    /// Stores `lines` as the next lines of server `server_id` and records `cursors`, written
    /// in one transaction with whatever other servers append within a few milliseconds
    /// (group commit, see [`group_commit`]). `on_stored` runs on the store thread right after
    /// the commit with the stored lines (when there are any). Answers, after the commit, how
    /// many lines were stored; on an error neither the lines nor the positions are. Must be
    /// called inside a tokio runtime.
    pub async fn append_logs(
        &self,
        server_id: i64,
        lines: Vec<logs::NewLogLine>,
        cursors: Vec<logs::LogCursor>,
        on_stored: impl FnOnce(Vec<logs::LogLine>) + Send + 'static,
    ) -> Result<usize, StoreError> {
        self.log_queue
            .append(&self.tasks, server_id, lines, cursors, Box::new(on_stored))
            .await
    }

    /// Every live server's row without its settings, in id order (as
    /// [`servers::list_summaries`]), from memory while no server row changed since the last
    /// read.
    pub async fn server_summaries(&self) -> Result<Arc<Vec<Server>>, StoreError> {
        if let Some(rows) = self.summaries.fresh() {
            return Ok(rows);
        }
        let summaries = Arc::clone(&self.summaries);
        self.call(move |conn| {
            // On the store thread no write is half-done: the generation matches the rows.
            let generation = summaries.generation();
            let rows = Arc::new(servers::list_summaries(conn)?);
            summaries.put(generation, Arc::clone(&rows));
            Ok(rows)
        })
        .await
    }

    /// Runs `f` on the store's thread and returns its result. A panic in `f` rolls back any
    /// open transaction and comes back as [`StoreError::Panicked`]; the store keeps working.
    pub async fn call<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.tasks
            .send(Box::new(move |conn| {
                // The caller may have gone away; the work is done (and committed) regardless.
                let _ = reply.send(run_guarded(conn, f));
            }))
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// [`Store::call`] for code outside the async runtime. Blocks the calling thread until
    /// the answer arrives, so it must not be called from an async task.
    pub fn call_blocking<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let (reply, answer) = mpsc::sync_channel(1);
        self.tasks
            .send(Box::new(move |conn| {
                let _ = reply.send(run_guarded(conn, f));
            }))
            .map_err(|_| StoreError::Closed)?;
        answer.recv().map_err(|_| StoreError::Closed)?
    }
}

/// Creates the database file readable by its owner only (it holds password hashes and
/// sealed secrets), or tightens an existing one; SQLite gives its `-wal` and `-shm` files the
/// same mode.
fn owner_only(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(StoreError::File)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(StoreError::File)
}

/// Makes deleted pages returnable to the file system in steps (retention prunes, then
/// frees pages with `PRAGMA incremental_vacuum`), so the file does not only ever grow. The
/// mode takes effect at once on a new database and after one `VACUUM` on an older one.
fn incremental_vacuum(conn: &Connection) -> Result<(), StoreError> {
    const INCREMENTAL: i64 = 2;
    let mode: i64 = conn.pragma_query_value(None, "auto_vacuum", |row| row.get(0))?;
    if mode == INCREMENTAL {
        return Ok(());
    }
    conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
    let mode: i64 = conn.pragma_query_value(None, "auto_vacuum", |row| row.get(0))?;
    if mode == INCREMENTAL {
        return Ok(());
    }
    // An existing database (or one already in WAL mode) takes the new mode only through a
    // rebuild: once, never again at later starts.
    tracing::info!("rebuilding the database once so that pruning can shrink it");
    let started = std::time::Instant::now();
    conn.execute_batch("VACUUM")?;
    tracing::info!(
        took_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "database rebuilt for incremental vacuum"
    );
    Ok(())
}

/// Runs one closure, turning a panic into an error and leaving the connection usable.
fn run_guarded<R>(
    conn: &mut Connection,
    f: impl FnOnce(&mut Connection) -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    match panic::catch_unwind(AssertUnwindSafe(|| f(&mut *conn))) {
        Ok(result) => result,
        Err(payload) => {
            // A `Transaction` rolls back as it unwinds; a bare `BEGIN` does not.
            if !conn.is_autocommit()
                && let Err(e) = conn.execute_batch("ROLLBACK")
            {
                tracing::error!("rolling back after a panic failed: {e}");
            }
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".to_owned());
            tracing::error!("a database call panicked: {message}");
            Err(StoreError::Panicked(message))
        }
    }
}

/// Turns "no rows changed" into [`StoreError::NotFound`] for `what`.
pub(crate) fn expect_changed(
    changed: usize,
    what: impl FnOnce() -> String,
) -> Result<(), StoreError> {
    if changed == 0 {
        Err(StoreError::NotFound(what()))
    } else {
        Ok(())
    }
}

/// Converts a row limit to SQL, capping absurd values.
pub(crate) fn sql_limit(limit: u32) -> i64 {
    i64::from(limit.min(10_000))
}
