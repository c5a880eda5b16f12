//! Retention: old history is pruned so the database does not grow without bound.
//!
//! Every [`PRUNE_INTERVAL`] (and once at start) each kind of history older than its
//! [`Retention`] period is deleted in batches of [`BATCH`] rows, one store call per batch so
//! live writers are never held up for long, and the freed pages are returned to the file
//! system (incremental vacuum).

use std::time::{Duration, SystemTime};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::store::{Store, StoreError, retention};

/// How often pruning runs.
pub const PRUNE_INTERVAL: Duration = Duration::from_secs(10 * 60);
/// Rows deleted per store call.
pub const BATCH: u32 = 2_000;
/// Free pages returned per store call.
const VACUUM_PAGES: u32 = 2_000;

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// How long each kind of history is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Server log lines.
    pub logs: Duration,
    /// Raw metric points.
    pub metrics_raw: Duration,
    /// One-minute metric rollups.
    pub metrics_rollups: Duration,
    /// Server events (state changes, crashes, players, job results).
    pub events: Duration,
    /// Job output, counted from the job's end.
    pub job_logs: Duration,
    /// All history of a deleted server (jobs, events, logs, players, metrics, grants,
    /// bans), counted from its deletion.
    pub deleted_servers: Duration,
    /// The audit log of API calls.
    pub audit: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            logs: 7 * DAY,
            metrics_raw: DAY,
            metrics_rollups: 30 * DAY,
            events: 30 * DAY,
            job_logs: 30 * DAY,
            deleted_servers: 30 * DAY,
            audit: 90 * DAY,
        }
    }
}

/// Rows deleted by one pruning pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Log lines.
    pub logs: usize,
    /// Raw metric points.
    pub metrics: usize,
    /// Rollups.
    pub rollups: usize,
    /// Server events.
    pub events: usize,
    /// Job output lines.
    pub job_logs: usize,
    /// Deleted servers whose history went.
    pub deleted_servers: usize,
    /// Audit rows.
    pub audit: usize,
}

/// Starts pruning every [`PRUNE_INTERVAL`] until `cancel` fires.
pub fn spawn(store: Store, retention: Retention, cancel: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(PRUNE_INTERVAL);
        loop {
            tokio::select! {
                () = cancel.cancelled() => break,
                _ = ticker.tick() => {}
            }
            match prune(&store, &retention, SystemTime::now(), &cancel).await {
                Ok(pruned) if pruned != Pruned::default() => {
                    tracing::info!(?pruned, "pruned old history");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("pruning old history failed: {e}"),
            }
        }
    })
}

/// One pass: deletes everything older than `retention` allows at `now`.
pub async fn prune(
    store: &Store,
    retention: &Retention,
    now: SystemTime,
    cancel: &CancellationToken,
) -> Result<Pruned, StoreError> {
    let ms = |keep: Duration| {
        crate::time::unix_millis(now.checked_sub(keep).unwrap_or(SystemTime::UNIX_EPOCH))
    };
    let text = |keep: Duration| {
        crate::time::rfc3339(now.checked_sub(keep).unwrap_or(SystemTime::UNIX_EPOCH))
    };
    let (logs, raw, rollups) = (
        ms(retention.logs),
        ms(retention.metrics_raw),
        ms(retention.metrics_rollups),
    );
    let (events, job_logs, audit) = (
        text(retention.events),
        text(retention.job_logs),
        text(retention.audit),
    );
    let mut pruned = Pruned::default();
    macro_rules! batches {
        ($field:ident, $call:expr) => {
            loop {
                if cancel.is_cancelled() {
                    return Ok(pruned);
                }
                let n = store.call($call).await?;
                pruned.$field += n;
                if n < BATCH as usize {
                    break;
                }
            }
        };
    }
    batches!(logs, move |c| retention::prune_logs(c, logs, BATCH));
    batches!(metrics, move |c| retention::prune_metrics(c, raw, BATCH));
    batches!(rollups, move |c| retention::prune_rollups(
        c, rollups, BATCH
    ));
    let cutoff = events.clone();
    batches!(events, {
        let cutoff = cutoff.clone();
        move |c| retention::prune_events(c, &cutoff, BATCH)
    });
    batches!(job_logs, {
        let cutoff = job_logs.clone();
        move |c| retention::prune_job_logs(c, &cutoff, BATCH)
    });
    let cutoff = text(retention.deleted_servers);
    loop {
        if cancel.is_cancelled() {
            return Ok(pruned);
        }
        let cutoff = cutoff.clone();
        match store
            .call(move |c| retention::purge_deleted_server(c, &cutoff))
            .await?
        {
            Some(_) => pruned.deleted_servers += 1,
            None => break,
        }
    }
    batches!(audit, {
        let cutoff = audit.clone();
        move |c| retention::prune_audit(c, &cutoff, BATCH)
    });
    if pruned != Pruned::default() {
        store
            .call(|c| retention::release_space(c, VACUUM_PAGES))
            .await?;
    }
    Ok(pruned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_pass_prunes_each_kind_past_its_period() {
        let store = Store::open_in_memory().expect("store");
        let id = store
            .call(|c| {
                crate::store::servers::insert(
                    c,
                    &crate::store::servers::NewServer::new("s", "g", serde_json::json!({})),
                )
            })
            .await
            .expect("server")
            .id;
        let now = SystemTime::now();
        let old = crate::time::unix_millis(now - 8 * DAY);
        let fresh = crate::time::unix_millis(now);
        let line = move |at| crate::store::logs::NewLogLine {
            source: "console".into(),
            at,
            level: crate::adapters::model::Level::Info,
            game_time: None,
            text: "x".into(),
            events: Vec::new(),
        };
        store
            .call(move |c| {
                crate::store::logs::append(c, id, vec![line(old), line(old), line(fresh)], &[])
            })
            .await
            .expect("lines");
        let pruned = prune(
            &store,
            &Retention::default(),
            now,
            &CancellationToken::new(),
        )
        .await
        .expect("prune");
        assert_eq!(pruned.logs, 2);
        let left = store
            .call(move |c| crate::store::logs::after(c, id, 0, 10))
            .await
            .expect("left");
        assert_eq!(left.len(), 1);
    }

    #[tokio::test]
    async fn audit_rows_past_their_period_are_pruned() {
        let store = Store::open_in_memory().expect("store");
        let now = SystemTime::now();
        let old = crate::time::rfc3339(now - 91 * DAY);
        store
            .call(move |c| {
                for at in [old.as_str(), old.as_str()] {
                    c.execute(
                        "INSERT INTO audit_log (at, action, client, status)
                         VALUES (?1, 'POST /api/v1/auth/login', 'unknown', 401)",
                        [at],
                    )?;
                }
                let entry = crate::store::audit::NewAuditEntry {
                    action: "POST /api/v1/auth/login".into(),
                    client: "unknown".into(),
                    status: 401,
                    ..Default::default()
                };
                crate::store::audit::insert(c, &entry)
            })
            .await
            .expect("rows");
        let keep_a_year = Retention {
            audit: 365 * DAY,
            ..Retention::default()
        };
        let cancel = CancellationToken::new();
        let pruned = prune(&store, &keep_a_year, now, &cancel)
            .await
            .expect("prune");
        assert_eq!(pruned.audit, 0, "within a longer period");
        let pruned = prune(&store, &Retention::default(), now, &cancel)
            .await
            .expect("prune");
        assert_eq!(pruned.audit, 2, "past the default 90 days");
        let left = store
            .call(|c| crate::store::audit::list(c, None, 10))
            .await
            .expect("left");
        assert_eq!(left.len(), 1);
    }
}
