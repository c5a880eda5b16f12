//! Game servers: what the user configured, what they asked for (`desired_state`) and what
//! the supervisor last observed (`actual_state`, the process). The store records; the
//! reconciler decides. Deleting is soft so that a server's jobs and events stay readable.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::text::{json_column, now, text_enum};
use super::{StoreError, expect_changed};

text_enum! {
    /// What the user asked a server to be.
    #[derive(utoipa::ToSchema)]
    pub enum DesiredState as "desired state" {
        /// Keep it running (restart it after a crash, within the restart policy).
        Running = "running",
        /// Keep it stopped.
        Stopped = "stopped",
    }
}

text_enum! {
    /// What the supervisor last observed.
    #[derive(utoipa::ToSchema)]
    pub enum ActualState as "actual state" {
        /// A process the host does not control (e.g. found running but not reattachable).
        Unmanaged = "unmanaged",
        /// Not running.
        Stopped = "stopped",
        /// Launched, not yet ready.
        Starting = "starting",
        /// Ready and serving.
        Running = "running",
        /// Asked to stop, not yet gone.
        Stopping = "stopping",
        /// Exited without being asked to.
        Crashed = "crashed",
    }
}

/// How a crashed server is restarted: at most `max` times within `window_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RestartPolicy {
    /// Whether crashes are followed by a restart at all.
    pub enabled: bool,
    /// Restarts allowed inside the window before the host gives up.
    pub max: u32,
    /// The sliding window, in seconds.
    pub window_secs: u32,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            enabled: true,
            max: 3,
            window_secs: 600,
        }
    }
}

/// A running game process as the host identifies it: the pid alone can be recycled, the pid
/// plus its start time (clock ticks since boot, `/proc/<pid>/stat`) cannot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ProcessIdentity {
    /// The process id (of the process-group leader).
    pub pid: u32,
    /// Its start time in clock ticks since boot.
    pub start_time: u64,
}

/// A stored server.
#[derive(Debug, Clone, Serialize)]
pub struct Server {
    /// Row id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// The game adapter managing it (and whose runtime it uses).
    pub adapter_id: String,
    /// The owning user, once users exist.
    pub owner_id: Option<i64>,
    /// Adapter settings as JSON; secret values are ciphertext, encrypted by the caller.
    pub settings: serde_json::Value,
    /// What the user asked for.
    pub desired_state: DesiredState,
    /// What the supervisor last observed.
    pub actual_state: ActualState,
    /// Exit code of the last process, when it exited.
    pub exit_code: Option<i32>,
    /// The live process, for reattaching after a host restart.
    pub process: Option<ProcessIdentity>,
    /// Why the last start or run failed, for the user.
    pub last_error: Option<String>,
    /// Crash restarts.
    pub restart: RestartPolicy,
    /// Seconds between the polite stop and the kill.
    pub stop_grace_secs: u32,
    /// An administrator-registered existing install, used instead of a managed one.
    pub runtime_path: Option<String>,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC, bumped by every change.
    pub updated_at: String,
    /// Set when deleted; deleted servers are kept for their history.
    pub deleted_at: Option<String>,
}

/// What creating a server needs.
#[derive(Debug, Clone)]
pub struct NewServer {
    /// Display name.
    pub name: String,
    /// The game adapter.
    pub adapter_id: String,
    /// The owning user.
    pub owner_id: Option<i64>,
    /// Validated settings, secrets already encrypted.
    pub settings: serde_json::Value,
    /// Crash restarts.
    pub restart: RestartPolicy,
    /// Seconds between the polite stop and the kill.
    pub stop_grace_secs: u32,
    /// An existing install to use instead of a managed one.
    pub runtime_path: Option<String>,
}

impl NewServer {
    /// A server with default policies, no owner and a managed install.
    pub fn new(
        name: impl Into<String>,
        adapter_id: impl Into<String>,
        settings: serde_json::Value,
    ) -> Self {
        NewServer {
            name: name.into(),
            adapter_id: adapter_id.into(),
            owner_id: None,
            settings,
            restart: RestartPolicy::default(),
            stop_grace_secs: 30,
            runtime_path: None,
        }
    }
}

/// One observation from the supervisor, written in one update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// The state seen.
    pub state: ActualState,
    /// The exit code, when the process exited.
    pub exit_code: Option<i32>,
    /// The live process, `None` when there is none.
    pub process: Option<ProcessIdentity>,
    /// Why it failed, for the user; `None` clears the previous error.
    pub last_error: Option<String>,
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<Server> {
    let pid: Option<u32> = row.get("pid")?;
    let start_time: Option<i64> = row.get("pid_start_time")?;
    let process = match (pid, start_time) {
        (Some(pid), Some(start_time)) => Some(ProcessIdentity {
            pid,
            start_time: u64::try_from(start_time).unwrap_or(0),
        }),
        _ => None,
    };
    Ok(Server {
        id: row.get("id")?,
        name: row.get("name")?,
        adapter_id: row.get("adapter_id")?,
        owner_id: row.get("owner_id")?,
        settings: json_column(row, "settings")?.unwrap_or(serde_json::Value::Null),
        desired_state: row.get("desired_state")?,
        actual_state: row.get("actual_state")?,
        exit_code: row.get("exit_code")?,
        process,
        last_error: row.get("last_error")?,
        restart: RestartPolicy {
            enabled: row.get("restart_enabled")?,
            max: row.get("restart_max")?,
            window_secs: row.get("restart_window_secs")?,
        },
        stop_grace_secs: row.get("stop_grace_secs")?,
        runtime_path: row.get("runtime_path")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
        deleted_at: row.get("deleted_at")?,
    })
}

fn start_time_sql(process: Option<ProcessIdentity>) -> Result<Option<i64>, StoreError> {
    process
        .map(|p| {
            i64::try_from(p.start_time)
                .map_err(|e| StoreError::Sqlite(rusqlite::Error::ToSqlConversionFailure(e.into())))
        })
        .transpose()
}

fn not_found(id: i64) -> impl FnOnce() -> String {
    move || format!("server {id}")
}

/// Creates a server (desired and actual state `stopped`) and returns it.
pub fn insert(conn: &Connection, new: &NewServer) -> Result<Server, StoreError> {
    let settings = serde_json::to_string(&new.settings)
        .map_err(|e| StoreError::Sqlite(rusqlite::Error::ToSqlConversionFailure(e.into())))?;
    let server = conn.query_row(
        "INSERT INTO servers (name, adapter_id, owner_id, settings, restart_enabled, restart_max,
                              restart_window_secs, stop_grace_secs, runtime_path)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         RETURNING *",
        params![
            new.name,
            new.adapter_id,
            new.owner_id,
            settings,
            new.restart.enabled,
            new.restart.max,
            new.restart.window_secs,
            new.stop_grace_secs,
            new.runtime_path,
        ],
        from_row,
    )?;
    Ok(server)
}

/// A server that is not deleted.
pub fn get(conn: &Connection, id: i64) -> Result<Server, StoreError> {
    conn.query_row(
        "SELECT * FROM servers WHERE id = ?1 AND deleted_at IS NULL",
        params![id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound(not_found(id)()))
}

/// A server, deleted or not (for history views).
pub fn get_including_deleted(conn: &Connection, id: i64) -> Result<Server, StoreError> {
    conn.query_row("SELECT * FROM servers WHERE id = ?1", params![id], from_row)
        .optional()?
        .ok_or_else(|| StoreError::NotFound(not_found(id)()))
}

/// Every server that is not deleted, oldest first, without its settings (`settings` is
/// null): what lists need. Columns are read by position and the settings are not parsed, so
/// a long list stays cheap for the store's thread.
pub fn list_summaries(conn: &Connection) -> Result<Vec<Server>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, adapter_id, owner_id, desired_state, actual_state, exit_code, pid,
                pid_start_time, last_error, restart_enabled, restart_max, restart_window_secs,
                stop_grace_secs, runtime_path, created_at, updated_at
         FROM servers WHERE deleted_at IS NULL ORDER BY id",
    )?;
    let servers = stmt
        .query_map([], |row| {
            let pid: Option<u32> = row.get(7)?;
            let start_time: Option<i64> = row.get(8)?;
            Ok(Server {
                id: row.get(0)?,
                name: row.get(1)?,
                adapter_id: row.get(2)?,
                owner_id: row.get(3)?,
                settings: serde_json::Value::Null,
                desired_state: row.get(4)?,
                actual_state: row.get(5)?,
                exit_code: row.get(6)?,
                process: pid.zip(start_time).map(|(pid, start)| ProcessIdentity {
                    pid,
                    start_time: u64::try_from(start).unwrap_or(0),
                }),
                last_error: row.get(9)?,
                restart: RestartPolicy {
                    enabled: row.get(10)?,
                    max: row.get(11)?,
                    window_secs: row.get(12)?,
                },
                stop_grace_secs: row.get(13)?,
                runtime_path: row.get(14)?,
                created_at: row.get(15)?,
                updated_at: row.get(16)?,
                deleted_at: None,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(servers)
}

/// Every server that is not deleted, oldest first.
pub fn list(conn: &Connection) -> Result<Vec<Server>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT * FROM servers WHERE deleted_at IS NULL ORDER BY id")?;
    let servers = stmt.query_map([], from_row)?.collect::<Result<_, _>>()?;
    Ok(servers)
}

/// Servers whose last recorded state says a process may be alive (`starting`, `running` or
/// `stopping`): on boot the supervisor reattaches to them or records them as gone. `stopping`
/// is included so that a process the host was stopping when it died is not left unmanaged.
pub fn list_for_reattach(conn: &Connection) -> Result<Vec<Server>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT * FROM servers
         WHERE deleted_at IS NULL AND actual_state IN ('starting', 'running', 'stopping')
         ORDER BY id",
    )?;
    let servers = stmt.query_map([], from_row)?.collect::<Result<_, _>>()?;
    Ok(servers)
}

/// The game processes of live servers: (server id, pid), for sampling their resource use.
pub fn processes(conn: &Connection) -> Result<Vec<(i64, u32)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, pid FROM servers
         WHERE deleted_at IS NULL AND pid IS NOT NULL
           AND actual_state IN ('starting', 'running', 'stopping')
         ORDER BY id",
    )?;
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Renames a server or changes its policies; `None` leaves a value as it is.
pub fn update_meta(
    conn: &Connection,
    id: i64,
    name: Option<&str>,
    restart: Option<RestartPolicy>,
    stop_grace_secs: Option<u32>,
) -> Result<(), StoreError> {
    let changed = conn.execute(
        concat!(
            "UPDATE servers SET
                 name = COALESCE(?2, name),
                 restart_enabled = COALESCE(?3, restart_enabled),
                 restart_max = COALESCE(?4, restart_max),
                 restart_window_secs = COALESCE(?5, restart_window_secs),
                 stop_grace_secs = COALESCE(?6, stop_grace_secs),
                 updated_at = ",
            now!(),
            " WHERE id = ?1 AND deleted_at IS NULL"
        ),
        params![
            id,
            name,
            restart.map(|r| r.enabled),
            restart.map(|r| r.max),
            restart.map(|r| r.window_secs),
            stop_grace_secs
        ],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound(format!("server {id}")));
    }
    Ok(())
}

/// Replaces a server's settings (secrets already encrypted).
pub fn update_settings(
    conn: &Connection,
    id: i64,
    settings: &serde_json::Value,
) -> Result<(), StoreError> {
    let settings = serde_json::to_string(settings)
        .map_err(|e| StoreError::Sqlite(rusqlite::Error::ToSqlConversionFailure(e.into())))?;
    let changed = conn.execute(
        concat!(
            "UPDATE servers SET settings = ?2, updated_at = ",
            now!(),
            " WHERE id = ?1 AND deleted_at IS NULL"
        ),
        params![id, settings],
    )?;
    expect_changed(changed, not_found(id))
}

/// Records what the user asked for.
pub fn set_desired_state(
    conn: &Connection,
    id: i64,
    desired: DesiredState,
) -> Result<(), StoreError> {
    let changed = conn.execute(
        concat!(
            "UPDATE servers SET desired_state = ?2, updated_at = ",
            now!(),
            " WHERE id = ?1 AND deleted_at IS NULL"
        ),
        params![id, desired],
    )?;
    expect_changed(changed, not_found(id))
}

/// Records one observation of the supervisor: state, exit code, process and error together.
/// Works on deleted servers too, so a late exit is still recorded.
pub fn set_actual_state(conn: &Connection, id: i64, seen: &Observed) -> Result<(), StoreError> {
    let changed = conn.execute(
        concat!(
            "UPDATE servers SET actual_state = ?2, exit_code = ?3, pid = ?4, pid_start_time = ?5,
                                last_error = ?6, updated_at = ",
            now!(),
            " WHERE id = ?1"
        ),
        params![
            id,
            seen.state,
            seen.exit_code,
            seen.process.map(|p| p.pid),
            start_time_sql(seen.process)?,
            seen.last_error,
        ],
    )?;
    expect_changed(changed, not_found(id))
}

/// Records (or clears) the live process alone.
pub fn set_process(
    conn: &Connection,
    id: i64,
    process: Option<ProcessIdentity>,
) -> Result<(), StoreError> {
    let changed = conn.execute(
        concat!(
            "UPDATE servers SET pid = ?2, pid_start_time = ?3, updated_at = ",
            now!(),
            " WHERE id = ?1"
        ),
        params![id, process.map(|p| p.pid), start_time_sql(process)?],
    )?;
    expect_changed(changed, not_found(id))
}

/// Records (or clears, with `None`) the last error shown for a server.
pub fn set_last_error(conn: &Connection, id: i64, error: Option<&str>) -> Result<(), StoreError> {
    let changed = conn.execute(
        concat!(
            "UPDATE servers SET last_error = ?2, updated_at = ",
            now!(),
            " WHERE id = ?1"
        ),
        params![id, error],
    )?;
    expect_changed(changed, not_found(id))
}

/// Ids of servers that have a queued or running job.
pub fn busy_ids(conn: &Connection) -> Result<Vec<i64>, StoreError> {
    let mut statement = conn.prepare(
        "SELECT DISTINCT server_id FROM jobs
         WHERE server_id IS NOT NULL AND state IN ('queued', 'running')",
    )?;
    let ids = statement
        .query_map([], |row| row.get(0))?
        .collect::<Result<Vec<i64>, _>>()?;
    Ok(ids)
}

/// Marks a server deleted. Its jobs and events stay; it disappears from [`list`] and [`get`].
pub fn soft_delete(conn: &Connection, id: i64) -> Result<(), StoreError> {
    let changed = conn.execute(
        concat!(
            // The settings (sealed passwords among them) go with the server; the row stays
            // for its history until retention purges that.
            "UPDATE servers SET settings = '{}', deleted_at = ",
            now!(),
            ", updated_at = ",
            now!(),
            " WHERE id = ?1 AND deleted_at IS NULL"
        ),
        params![id],
    )?;
    expect_changed(changed, not_found(id))
}
