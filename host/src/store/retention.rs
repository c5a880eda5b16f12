//! Pruning old history in small batches.
//!
//! Each function deletes at most `batch` rows of one kind that are older than a cutoff and
//! returns how many it deleted; callers repeat it (one store call per batch) until it
//! returns less than `batch`, so writers queue behind one short batch at a time, never
//! behind a whole purge. Rows are taken oldest first in key order, which is also time order
//! for every table here.

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;

/// Deletes up to `batch` log lines read before `cutoff_ms`, oldest first, per server.
pub fn prune_logs(conn: &mut Connection, cutoff_ms: i64, batch: u32) -> Result<usize, StoreError> {
    let tx = conn.transaction()?;
    let servers: Vec<i64> = {
        let mut stmt = tx.prepare_cached("SELECT id FROM servers ORDER BY id")?;
        stmt.query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?
    };
    let mut deleted = 0;
    for server_id in servers {
        let left = batch as usize - deleted;
        if left == 0 {
            break;
        }
        deleted += tx.execute(
            "DELETE FROM server_logs WHERE server_id = ?1 AND seq IN (
                 SELECT seq FROM server_logs WHERE server_id = ?1 ORDER BY seq LIMIT ?3
             ) AND at < ?2",
            params![
                server_id,
                cutoff_ms,
                i64::try_from(left).unwrap_or(i64::MAX)
            ],
        )?;
    }
    tx.commit()?;
    Ok(deleted)
}

/// Deletes up to `batch` raw metric points taken before `cutoff_ms`.
pub fn prune_metrics(conn: &Connection, cutoff_ms: i64, batch: u32) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "DELETE FROM metrics WHERE (server_id, name, at) IN (
             SELECT server_id, name, at FROM metrics WHERE at < ?1 LIMIT ?2
         )",
        params![cutoff_ms, batch],
    )?)
}

/// Deletes up to `batch` one-minute rollups of minutes before `cutoff_ms`.
pub fn prune_rollups(conn: &Connection, cutoff_ms: i64, batch: u32) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "DELETE FROM metrics_1m WHERE (server_id, name, at) IN (
             SELECT server_id, name, at FROM metrics_1m WHERE at < ?1 LIMIT ?2
         )",
        params![cutoff_ms, batch],
    )?)
}

/// Deletes up to `batch` server events recorded before `cutoff` (RFC 3339, as stored).
pub fn prune_events(conn: &Connection, cutoff: &str, batch: u32) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "DELETE FROM server_events WHERE id IN (
             SELECT id FROM server_events ORDER BY id LIMIT ?2
         ) AND at < ?1",
        params![cutoff, batch],
    )?)
}

/// Deletes up to `batch` output lines of jobs that finished before `cutoff` (RFC 3339).
pub fn prune_job_logs(conn: &Connection, cutoff: &str, batch: u32) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "DELETE FROM job_logs WHERE (job_id, seq) IN (
             SELECT l.job_id, l.seq FROM job_logs l JOIN jobs j ON j.id = l.job_id
             WHERE j.finished_at IS NOT NULL AND j.finished_at < ?1
             ORDER BY l.job_id, l.seq LIMIT ?2
         )",
        params![cutoff, batch],
    )?)
}

/// The tables holding a server's history, each with the condition that selects one
/// server's rows (`?1`), children before parents.
const SERVER_HISTORY: [(&str, &str); 11] = [
    (
        "job_logs",
        "job_id IN (SELECT id FROM jobs WHERE server_id = ?1)",
    ),
    ("jobs", "server_id = ?1"),
    ("server_events", "server_id = ?1"),
    ("server_logs", "server_id = ?1"),
    ("log_cursors", "server_id = ?1"),
    ("players_online", "server_id = ?1"),
    ("player_history", "server_id = ?1"),
    ("metrics", "server_id = ?1"),
    ("metrics_1m", "server_id = ?1"),
    ("server_grants", "server_id = ?1"),
    ("bans", "server_id = ?1"),
];

/// Deletes the history of one server deleted before `cutoff` (RFC 3339) that still has
/// any: its jobs and their output, events, log lines and positions, players, metrics,
/// grants and bans, in one transaction. The server's row stays as a tombstone (its
/// settings were cleared when it was deleted), so its id is never given to another server
/// and older audit entries still name it. Returns the purged server's id, or none when no
/// deleted server holds history any more.
pub fn purge_deleted_server(
    conn: &mut Connection,
    cutoff: &str,
) -> Result<Option<i64>, StoreError> {
    let holds_history = SERVER_HISTORY
        .iter()
        .map(|(table, condition)| {
            format!(
                "EXISTS (SELECT 1 FROM {table} WHERE {})",
                condition.replace("?1", "s.id")
            )
        })
        .collect::<Vec<_>>()
        .join(" OR ");
    let tx = conn.transaction()?;
    let id: Option<i64> = tx
        .query_row(
            &format!(
                "SELECT s.id FROM servers s
                 WHERE s.deleted_at IS NOT NULL AND s.deleted_at < ?1 AND ({holds_history})
                 ORDER BY s.deleted_at LIMIT 1"
            ),
            params![cutoff],
            |row| row.get(0),
        )
        .optional()?;
    let Some(id) = id else {
        return Ok(None);
    };
    for (table, condition) in SERVER_HISTORY {
        tx.execute(
            &format!("DELETE FROM {table} WHERE {condition}"),
            params![id],
        )?;
    }
    tx.commit()?;
    Ok(Some(id))
}

/// Deletes up to `batch` audit rows written before `cutoff` (RFC 3339, as stored).
pub fn prune_audit(conn: &Connection, cutoff: &str, batch: u32) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "DELETE FROM audit_log WHERE id IN (
             SELECT id FROM audit_log ORDER BY id LIMIT ?2
         ) AND at < ?1",
        params![cutoff, batch],
    )?)
}

/// Returns up to `pages` free pages to the file system.
pub fn release_space(conn: &Connection, pages: u32) -> Result<(), StoreError> {
    conn.execute_batch(&format!("PRAGMA incremental_vacuum({pages})"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::model::Level;
    use crate::store::logs::{self, NewLogLine};
    use crate::store::servers::{self, NewServer};

    #[test]
    fn only_old_rows_go_and_in_batches() {
        let mut conn = Connection::open_in_memory().expect("open");
        crate::store::migrations::apply(&mut conn).expect("migrate");
        let id = servers::insert(
            &conn,
            &NewServer::new("s", "generic", serde_json::json!({})),
        )
        .expect("server")
        .id;
        let line = |at| NewLogLine {
            source: "console".into(),
            at,
            level: Level::Info,
            game_time: None,
            text: format!("at {at}"),
            events: Vec::new(),
        };
        let lines: Vec<NewLogLine> = (0..10).map(|i| line(i * 1000)).collect();
        logs::append(&mut conn, id, lines, &[]).expect("append");

        // Lines before 5 s go, three at a time.
        assert_eq!(prune_logs(&mut conn, 5_000, 3).expect("prune"), 3);
        assert_eq!(prune_logs(&mut conn, 5_000, 3).expect("prune"), 2);
        assert_eq!(prune_logs(&mut conn, 5_000, 3).expect("prune"), 0);
        let left = logs::after(&conn, id, 0, 100).expect("left");
        assert_eq!(
            left.first().map(|l| l.seq),
            Some(6),
            "sequence numbers are kept"
        );
        assert_eq!(left.len(), 5);

        let samples: Vec<crate::store::metrics::Sample> = (0..4)
            .map(|i| crate::store::metrics::Sample {
                server_id: id,
                name: "cpu_percent".into(),
                at: i * 60_000,
                value: 1.0,
            })
            .collect();
        crate::store::metrics::insert(&mut conn, &samples).expect("metrics");
        crate::store::metrics::rollup(&mut conn, 0, 240_000).expect("rollup");
        assert_eq!(prune_metrics(&conn, 120_000, 100).expect("prune"), 2);
        assert_eq!(prune_rollups(&conn, 60_000, 100).expect("prune"), 1);

        crate::store::events::append(
            &conn,
            id,
            &crate::store::events::NewEvent::new("note", "old"),
        )
        .expect("event");
        assert_eq!(
            prune_events(&conn, "2000-01-01T00:00:00Z", 100).expect("prune"),
            0
        );
        assert_eq!(
            prune_events(&conn, "9999-01-01T00:00:00Z", 100).expect("prune"),
            1
        );
        let entry = crate::store::audit::NewAuditEntry {
            action: "POST /api/v1/auth/login".into(),
            client: "unknown".into(),
            status: 401,
            ..Default::default()
        };
        crate::store::audit::insert(&conn, &entry).expect("audit row");
        assert_eq!(
            prune_audit(&conn, "2000-01-01T00:00:00Z", 100).expect("prune"),
            0
        );
        assert_eq!(
            prune_audit(&conn, "9999-01-01T00:00:00Z", 100).expect("prune"),
            1
        );
        release_space(&conn, 100).expect("vacuum");
    }

    #[test]
    fn a_deleted_servers_history_goes_after_the_window_and_its_row_stays() {
        let mut conn = Connection::open_in_memory().expect("open");
        crate::store::migrations::apply(&mut conn).expect("migrate");
        let new =
            |name: &str| NewServer::new(name, "generic", serde_json::json!({"password": "sealed"}));
        let gone = servers::insert(&conn, &new("gone")).expect("server").id;
        let kept = servers::insert(&conn, &new("kept")).expect("server").id;
        for id in [gone, kept] {
            crate::store::events::append(
                &conn,
                id,
                &crate::store::events::NewEvent::new("note", "history"),
            )
            .expect("event");
        }
        servers::soft_delete(&conn, gone).expect("delete");
        let settings: String = conn
            .query_row("SELECT settings FROM servers WHERE id = ?1", [gone], |r| {
                r.get(0)
            })
            .expect("row");
        assert_eq!(settings, "{}", "a deleted server's settings go at once");

        // Within the window nothing goes.
        assert_eq!(
            purge_deleted_server(&mut conn, "2000-01-01T00:00:00Z").expect("purge"),
            None
        );
        // After it, the deleted server's history goes, once; the live server's stays.
        assert_eq!(
            purge_deleted_server(&mut conn, "9999-01-01T00:00:00Z").expect("purge"),
            Some(gone)
        );
        assert_eq!(
            purge_deleted_server(&mut conn, "9999-01-01T00:00:00Z").expect("purge"),
            None
        );
        let events = |id: i64| -> i64 {
            conn.query_row(
                "SELECT count(*) FROM server_events WHERE server_id = ?1",
                [id],
                |r| r.get(0),
            )
            .expect("count")
        };
        assert_eq!((events(gone), events(kept)), (0, 1));
        assert!(
            servers::get_including_deleted(&conn, gone).is_ok(),
            "the tombstone stays"
        );
    }
}
