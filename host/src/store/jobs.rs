//! Jobs: the operations run on a server or a game runtime, their lifecycle
//! (`queued → running → succeeded | failed | cancelled`) and their output lines.
//!
//! This module decides *which* job may run (claiming enforces the exclusivity rules) and
//! records what happened; it never runs anything. Each function is one short transaction:
//! claiming commits `running` before the worker starts, and no transaction stays open while a
//! step runs.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use serde::Serialize;

use super::text::{now, text_enum};
use super::{StoreError, sql_limit};

text_enum! {
    /// The operations a job performs.
    #[derive(utoipa::ToSchema)]
    pub enum JobKind as "job kind" {
        /// Install the game (a server's files or a shared runtime).
        Install = "install",
        /// Update an installed game.
        Update = "update",
        /// Render the server's configuration files.
        Initialize = "initialize",
        /// Start the server.
        Start = "start",
        /// Stop the server politely, then forcefully after the grace period.
        Stop = "stop",
        /// Stop, then start.
        Restart = "restart",
        /// Kill the server's processes at once.
        Kill = "kill",
        /// Remove the server's files; its history rows stay.
        Delete = "delete",
    }
}

text_enum! {
    /// Where a job is in its lifecycle.
    #[derive(utoipa::ToSchema)]
    pub enum JobState as "job state" {
        /// Waiting to be claimed.
        Queued = "queued",
        /// Claimed by a worker.
        Running = "running",
        /// Finished successfully.
        Succeeded = "succeeded",
        /// Finished with an error (including "host restarted").
        Failed = "failed",
        /// Cancelled before or while running.
        Cancelled = "cancelled",
    }
}

text_enum! {
    /// Which stream a job log line came from.
    #[derive(utoipa::ToSchema)]
    pub enum LogStream as "log stream" {
        /// A step's standard output.
        Stdout = "stdout",
        /// A step's standard error.
        Stderr = "stderr",
        /// Written by the host itself (step boundaries, decisions).
        System = "system",
    }
}

impl JobState {
    /// Whether the job is over.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            JobState::Succeeded | JobState::Failed | JobState::Cancelled
        )
    }
}

/// A stored job.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Job {
    /// Row id; also the queue order.
    pub id: i64,
    /// The server it acts on, if any.
    pub server_id: Option<i64>,
    /// The adapter whose shared runtime an install/update touches, if any.
    pub runtime_adapter: Option<String>,
    /// What it does.
    pub kind: JobKind,
    /// Where it is.
    pub state: JobState,
    /// Who asked (a user name, or `system` for the reconciler).
    pub requested_by: String,
    /// 0–100, for steps that report progress (SteamCMD).
    pub progress: Option<f64>,
    /// The failing (or last) step's exit code.
    pub exit_code: Option<i32>,
    /// Why it failed, for the user.
    pub error: Option<String>,
    /// A cancel was requested while it ran; the worker terminates the step.
    pub cancel_requested: bool,
    /// RFC 3339 UTC.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When it was claimed.
    #[schema(format = DateTime)]
    pub started_at: Option<String>,
    /// When it finished.
    #[schema(format = DateTime)]
    pub finished_at: Option<String>,
}

/// What enqueueing a job needs.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// The server it acts on.
    pub server_id: Option<i64>,
    /// The adapter whose shared runtime it installs or updates.
    pub runtime_adapter: Option<String>,
    /// What it does.
    pub kind: JobKind,
    /// Who asked.
    pub requested_by: String,
}

impl NewJob {
    /// A job on one server.
    pub fn for_server(server_id: i64, kind: JobKind, requested_by: impl Into<String>) -> Self {
        NewJob {
            server_id: Some(server_id),
            runtime_adapter: None,
            kind,
            requested_by: requested_by.into(),
        }
    }

    /// An install or update of the shared runtime of `adapter_id`.
    pub fn for_runtime(
        adapter_id: impl Into<String>,
        kind: JobKind,
        requested_by: impl Into<String>,
    ) -> Self {
        NewJob {
            server_id: None,
            runtime_adapter: Some(adapter_id.into()),
            kind,
            requested_by: requested_by.into(),
        }
    }
}

/// How a running job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum JobOutcome {
    /// Every step succeeded.
    Succeeded {
        /// The last step's exit code, if it was a process.
        exit_code: Option<i32>,
    },
    /// A step failed.
    Failed {
        /// The failing step's exit code, if it was a process.
        exit_code: Option<i32>,
        /// What went wrong, for the user.
        error: String,
    },
    /// The worker stopped after a cancel request.
    Cancelled {
        /// The terminated step's exit code, if any.
        exit_code: Option<i32>,
    },
}

/// What a cancel request did.
#[derive(Debug, Clone)]
pub enum CancelOutcome {
    /// The job was queued and is now cancelled.
    Cancelled(Job),
    /// The job is running; `cancel_requested` is set and its worker must terminate the step.
    Requested(Job),
}

/// Filters and a cursor for [`list`]. Results are newest first.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// Only jobs in this state.
    pub state: Option<JobState>,
    /// Only jobs on this server.
    pub server_id: Option<i64>,
    /// Only jobs on one of these servers (jobs on runtimes excluded); `None` for no limit.
    pub server_ids: Option<Vec<i64>>,
    /// Only jobs with an id below this (the last id of the previous page).
    pub before_id: Option<i64>,
    /// At most this many (0 means the default of 50).
    pub limit: u32,
}

/// One output line of a job.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct JobLogLine {
    /// 1, 2, 3, … per job, without gaps.
    pub seq: i64,
    /// Where it came from.
    pub stream: LogStream,
    /// The text, without the line ending.
    pub line: String,
    /// When the store received it (RFC 3339 UTC).
    #[schema(format = DateTime)]
    pub at: String,
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<Job> {
    Ok(Job {
        id: row.get("id")?,
        server_id: row.get("server_id")?,
        runtime_adapter: row.get("runtime_adapter")?,
        kind: row.get("kind")?,
        state: row.get("state")?,
        requested_by: row.get("requested_by")?,
        progress: row.get("progress")?,
        exit_code: row.get("exit_code")?,
        error: row.get("error")?,
        cancel_requested: row.get("cancel_requested")?,
        created_at: row.get("created_at")?,
        started_at: row.get("started_at")?,
        finished_at: row.get("finished_at")?,
    })
}

fn not_found(id: i64) -> StoreError {
    StoreError::NotFound(format!("job {id}"))
}

/// Queues a job and returns it. The server must exist and not be deleted; only installs and
/// updates may name a runtime.
pub fn enqueue(conn: &Connection, new: &NewJob) -> Result<Job, StoreError> {
    if new.server_id.is_none() && new.runtime_adapter.is_none() {
        return Err(StoreError::Conflict(
            "a job needs a server or a runtime".into(),
        ));
    }
    if new.runtime_adapter.is_some() && !matches!(new.kind, JobKind::Install | JobKind::Update) {
        return Err(StoreError::Conflict(format!(
            "a {} job cannot act on a runtime",
            new.kind
        )));
    }
    if let Some(server_id) = new.server_id {
        super::servers::get(conn, server_id)?;
    }
    let job = conn.query_row(
        "INSERT INTO jobs (server_id, runtime_adapter, kind, requested_by)
         VALUES (?1, ?2, ?3, ?4)
         RETURNING *",
        params![
            new.server_id,
            new.runtime_adapter,
            new.kind,
            new.requested_by
        ],
        from_row,
    )?;
    Ok(job)
}

/// Queues an install or update of a runtime unless one of the same runtime is already queued
/// or running (a conflict naming it): a second would only repeat the first. Check and insert
/// are one call on the store's thread, so two requests cannot both pass.
pub fn enqueue_runtime(conn: &Connection, new: &NewJob) -> Result<Job, StoreError> {
    let Some(adapter) = new.runtime_adapter.as_deref() else {
        return Err(StoreError::Conflict("a runtime job needs a runtime".into()));
    };
    if let Some(pending) = pending_for_runtime(conn, adapter)? {
        return Err(StoreError::Conflict(format!(
            "the runtime of `{adapter}` already has a {} job {} (job {}); follow or cancel \
             that one",
            pending.kind, pending.state, pending.id
        )));
    }
    enqueue(conn, new)
}

/// The queued or running install/update of the runtime of `adapter`, if any.
pub fn pending_for_runtime(conn: &Connection, adapter: &str) -> Result<Option<Job>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT * FROM jobs
             WHERE runtime_adapter = ?1 AND state IN ('queued', 'running')
             ORDER BY id LIMIT 1",
            params![adapter],
            from_row,
        )
        .optional()?)
}

/// The newest install/update of the runtime of `adapter` (in any state), if any.
pub fn latest_for_runtime(conn: &Connection, adapter: &str) -> Result<Option<Job>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT * FROM jobs WHERE runtime_adapter = ?1 ORDER BY id DESC LIMIT 1",
            params![adapter],
            from_row,
        )
        .optional()?)
}

/// One job.
pub fn get(conn: &Connection, id: i64) -> Result<Job, StoreError> {
    conn.query_row("SELECT * FROM jobs WHERE id = ?1", params![id], from_row)
        .optional()?
        .ok_or_else(|| not_found(id))
}

/// Jobs matching `filter`, newest first.
pub fn list(conn: &Connection, filter: &JobFilter) -> Result<Vec<Job>, StoreError> {
    // The SQL is assembled from constant fragments only; every value is a bound parameter.
    let mut sql = String::from("SELECT * FROM jobs WHERE 1 = 1");
    let mut values: Vec<Value> = Vec::new();
    if let Some(state) = filter.state {
        sql.push_str(" AND state = ?");
        values.push(Value::Text(state.as_str().to_owned()));
    }
    if let Some(server_id) = filter.server_id {
        sql.push_str(" AND server_id = ?");
        values.push(Value::Integer(server_id));
    }
    if let Some(ids) = &filter.server_ids {
        sql.push_str(" AND server_id IN (SELECT value FROM json_each(?))");
        values.push(Value::Text(
            serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned()),
        ));
    }
    if let Some(before) = filter.before_id {
        sql.push_str(" AND id < ?");
        values.push(Value::Integer(before));
    }
    sql.push_str(" ORDER BY id DESC LIMIT ?");
    let limit = if filter.limit == 0 { 50 } else { filter.limit };
    values.push(Value::Integer(sql_limit(limit)));
    let mut stmt = conn.prepare_cached(&sql)?;
    let jobs = stmt
        .query_map(rusqlite::params_from_iter(values), from_row)?
        .collect::<Result<_, _>>()?;
    Ok(jobs)
}

/// The oldest queued job that may run now, marked `running` — or `None`.
///
/// A queued job is runnable when
/// - it acts on a server that has no running job;
/// - it acts on a runtime that no running job touches: no running install/update of that
///   runtime, and no running job on a server using it (servers of that adapter);
/// - it acts on a server whose adapter's runtime is not being installed or updated.
///
/// The choice and the `running` update happen in one `IMMEDIATE` transaction that commits
/// before this returns, so two workers can never claim the same job or conflicting jobs.
pub fn claim_next(conn: &mut Connection) -> Result<Option<Job>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let candidate: Option<i64> = tx
        .query_row(
            "SELECT j.id
             FROM jobs j
             LEFT JOIN servers s ON s.id = j.server_id
             WHERE j.state = 'queued'
               AND (j.server_id IS NULL OR NOT EXISTS (
                     SELECT 1 FROM jobs r
                     WHERE r.state = 'running' AND r.server_id = j.server_id))
               AND (j.runtime_adapter IS NULL OR NOT EXISTS (
                     SELECT 1 FROM jobs r
                     LEFT JOIN servers rs ON rs.id = r.server_id
                     WHERE r.state = 'running'
                       AND (r.runtime_adapter = j.runtime_adapter
                            OR rs.adapter_id = j.runtime_adapter)))
               AND (s.adapter_id IS NULL OR NOT EXISTS (
                     SELECT 1 FROM jobs r
                     WHERE r.state = 'running' AND r.runtime_adapter = s.adapter_id))
             ORDER BY j.id
             LIMIT 1",
            [],
            |row| row.get(0),
        )
        .optional()?;
    let Some(id) = candidate else {
        return Ok(None);
    };
    let job = tx.query_row(
        concat!(
            "UPDATE jobs SET state = 'running', started_at = ",
            now!(),
            " WHERE id = ?1 AND state = 'queued' RETURNING *"
        ),
        params![id],
        from_row,
    )?;
    tx.commit()?;
    Ok(Some(job))
}

/// Records how a running job ended and returns it. A job that is not running is a conflict
/// (it was already finished, e.g. failed by a host restart).
pub fn finish(conn: &mut Connection, id: i64, outcome: &JobOutcome) -> Result<Job, StoreError> {
    let (state, exit_code, error) = match outcome {
        JobOutcome::Succeeded { exit_code } => (JobState::Succeeded, *exit_code, None),
        JobOutcome::Failed { exit_code, error } => {
            (JobState::Failed, *exit_code, Some(error.as_str()))
        }
        JobOutcome::Cancelled { exit_code } => (JobState::Cancelled, *exit_code, None),
    };
    let tx = conn.transaction()?;
    let current = get(&tx, id)?;
    if current.state != JobState::Running {
        return Err(StoreError::Conflict(format!(
            "job {id} is {}, not running",
            current.state
        )));
    }
    let job = tx.query_row(
        concat!(
            "UPDATE jobs SET state = ?2, exit_code = ?3, error = ?4, finished_at = ",
            now!(),
            ", progress = CASE WHEN ?2 = 'succeeded' AND progress IS NOT NULL
                               THEN 100 ELSE progress END
             WHERE id = ?1 RETURNING *"
        ),
        params![id, state, exit_code, error],
        from_row,
    )?;
    tx.commit()?;
    Ok(job)
}

/// Cancels a job: a queued one at once, a running one by setting `cancel_requested` for its
/// worker. A finished job is a conflict.
pub fn request_cancel(conn: &mut Connection, id: i64) -> Result<CancelOutcome, StoreError> {
    let tx = conn.transaction()?;
    let current = get(&tx, id)?;
    let outcome = match current.state {
        JobState::Queued => CancelOutcome::Cancelled(tx.query_row(
            concat!(
                "UPDATE jobs SET state = 'cancelled', cancel_requested = 1, finished_at = ",
                now!(),
                " WHERE id = ?1 RETURNING *"
            ),
            params![id],
            from_row,
        )?),
        JobState::Running => CancelOutcome::Requested(tx.query_row(
            "UPDATE jobs SET cancel_requested = 1 WHERE id = ?1 RETURNING *",
            params![id],
            from_row,
        )?),
        finished => {
            return Err(StoreError::Conflict(format!(
                "job {id} is already {finished}"
            )));
        }
    };
    tx.commit()?;
    Ok(outcome)
}

/// Records a running job's progress (clamped to 0–100). Returns whether the job was running;
/// a late report for a finished job is ignored.
pub fn set_progress(conn: &Connection, id: i64, percent: f64) -> Result<bool, StoreError> {
    if percent.is_nan() {
        return Err(StoreError::Conflict("progress is not a number".into()));
    }
    let changed = conn.execute(
        "UPDATE jobs SET progress = ?2 WHERE id = ?1 AND state = 'running'",
        params![id, percent.clamp(0.0, 100.0)],
    )?;
    Ok(changed > 0)
}

/// On boot, before workers start: every job still `running` belonged to a dead host, so it
/// becomes `failed` with `reason`. Returns their ids, oldest first.
pub fn fail_stale_running(conn: &Connection, reason: &str) -> Result<Vec<i64>, StoreError> {
    let mut stmt = conn.prepare(concat!(
        "UPDATE jobs SET state = 'failed', error = ?1, finished_at = ",
        now!(),
        " WHERE state = 'running' RETURNING id"
    ))?;
    let mut ids: Vec<i64> = stmt
        .query_map(params![reason], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    ids.sort_unstable();
    Ok(ids)
}

/// Appends output lines to a job, numbering them after its last line, in one transaction.
/// Returns the seq of the last line now stored (0 if the job has none).
///
/// Seqs are gap-free and strictly increasing per job: the next seq is computed from
/// `MAX(seq)` inside the same transaction, and the single writer thread runs one append at a
/// time, so concurrent writers (stdout and stderr tasks) interleave whole batches.
pub fn append_logs<S: AsRef<str>>(
    conn: &mut Connection,
    job_id: i64,
    lines: &[(LogStream, S)],
) -> Result<i64, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let exists = tx
        .query_row("SELECT 1 FROM jobs WHERE id = ?1", params![job_id], |_| {
            Ok(())
        })
        .optional()?
        .is_some();
    if !exists {
        return Err(not_found(job_id));
    }
    let mut seq: i64 = tx.query_row(
        "SELECT COALESCE(MAX(seq), 0) FROM job_logs WHERE job_id = ?1",
        params![job_id],
        |row| row.get(0),
    )?;
    {
        let mut insert = tx.prepare_cached(concat!(
            "INSERT INTO job_logs (job_id, seq, stream, line, at) VALUES (?1, ?2, ?3, ?4, ",
            now!(),
            ")"
        ))?;
        for (stream, line) in lines {
            seq += 1;
            insert.execute(params![job_id, seq, stream, line.as_ref()])?;
        }
    }
    tx.commit()?;
    Ok(seq)
}

/// Up to `limit` lines of a job with seq greater than `after_seq`, in order.
pub fn logs(
    conn: &Connection,
    job_id: i64,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<JobLogLine>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, stream, line, at FROM job_logs
         WHERE job_id = ?1 AND seq > ?2
         ORDER BY seq
         LIMIT ?3",
    )?;
    let lines = stmt
        .query_map(params![job_id, after_seq, sql_limit(limit)], |row| {
            Ok(JobLogLine {
                seq: row.get("seq")?,
                stream: row.get("stream")?,
                line: row.get("line")?,
                at: row.get("at")?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(lines)
}

/// How many jobs are in each state (states without jobs are absent).
pub fn count_by_state(conn: &Connection) -> Result<Vec<(JobState, i64)>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT state, COUNT(*) FROM jobs GROUP BY state")?;
    let counts = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(counts)
}
