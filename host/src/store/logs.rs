//! Server log lines and the read cursors of their sources.
//!
//! [`append`] stores a batch of lines together with how far each source has been read, in
//! one transaction: after a crash either both are there or neither, so a restarted host
//! resumes exactly after the last stored line. Each server's lines carry a gap-free,
//! strictly increasing sequence (`seq`), which clients use to resume a stream.

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use serde::Serialize;

use super::StoreError;
use crate::adapters::model::{GameEvent, Level};

/// A line to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLogLine {
    /// The adapter's name for the log it came from.
    pub source: String,
    /// When the host read it, in ms since the Unix epoch.
    pub at: i64,
    /// Severity.
    pub level: Level,
    /// The game's own time on the line.
    pub game_time: Option<String>,
    /// The text.
    pub text: String,
    /// Typed events read from it.
    pub events: Vec<GameEvent>,
}

/// A stored line.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LogLine {
    /// Position in the server's log, from 1.
    pub seq: i64,
    /// The adapter's name for the log it came from.
    pub source: String,
    /// When the host read it, in ms since the Unix epoch.
    pub at: i64,
    /// Severity.
    pub level: Level,
    /// The game's own time on the line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub game_time: Option<String>,
    /// The text.
    pub text: String,
    /// Typed events read from it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<GameEvent>,
}

/// How far one log source of a server has been stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogCursor {
    /// The source's name.
    pub source: String,
    /// The file's path.
    pub path: String,
    /// The file's device number.
    pub device: u64,
    /// The file's inode number.
    pub inode: u64,
    /// Offset just past the last stored line.
    pub offset: u64,
}

fn level_text(level: Level) -> &'static str {
    match level {
        Level::Debug => "debug",
        Level::Info => "info",
        Level::Warning => "warning",
        Level::Error => "error",
    }
}

fn level_of(text: &str) -> Level {
    match text {
        "debug" => Level::Debug,
        "warning" => Level::Warning,
        "error" => Level::Error,
        _ => Level::Info,
    }
}

/// SQLite integers are signed; offsets and inode numbers are stored bit for bit.
fn to_i64(value: u64) -> i64 {
    i64::from_ne_bytes(value.to_ne_bytes())
}

fn to_u64(value: i64) -> u64 {
    u64::from_ne_bytes(value.to_ne_bytes())
}

/// Stores `lines` as the next lines of server `server_id` and records `cursors`, in one
/// transaction. Returns the stored lines with their sequence numbers. (The log pipelines
/// append through [`Store::append_logs`](super::Store::append_logs), which writes many
/// servers' lines in one transaction.)
pub fn append(
    conn: &mut Connection,
    server_id: i64,
    lines: Vec<NewLogLine>,
    cursors: &[LogCursor],
) -> Result<Vec<LogLine>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let stored = append_in(&tx, server_id, lines, cursors)?;
    tx.commit()?;
    Ok(stored)
}

/// [`append`] inside a transaction the caller holds.
pub fn append_in(
    tx: &Connection,
    server_id: i64,
    lines: Vec<NewLogLine>,
    cursors: &[LogCursor],
) -> Result<Vec<LogLine>, StoreError> {
    let mut seq: i64 = tx
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM server_logs WHERE server_id = ?1")?
        .query_row(params![server_id], |row| row.get(0))?;
    let mut stored = Vec::with_capacity(lines.len());
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO server_logs (server_id, seq, at, source, level, game_time, text, events)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for line in lines {
            seq += 1;
            let events = if line.events.is_empty() {
                None
            } else {
                serde_json::to_string(&line.events).ok()
            };
            insert.execute(params![
                server_id,
                seq,
                line.at,
                line.source,
                level_text(line.level),
                line.game_time,
                line.text,
                events,
            ])?;
            stored.push(LogLine {
                seq,
                source: line.source,
                at: line.at,
                level: line.level,
                game_time: line.game_time,
                text: line.text,
                events: line.events,
            });
        }
        let mut cursor = tx.prepare_cached(
            r#"INSERT INTO log_cursors (server_id, source, path, device, inode, "offset")
               VALUES (?1, ?2, ?3, ?4, ?5, ?6)
               ON CONFLICT (server_id, source) DO UPDATE SET
                   path = excluded.path, device = excluded.device, inode = excluded.inode,
                   "offset" = excluded."offset""#,
        )?;
        for c in cursors {
            cursor.execute(params![
                server_id,
                c.source,
                c.path,
                to_i64(c.device),
                to_i64(c.inode),
                to_i64(c.offset),
            ])?;
        }
    }
    Ok(stored)
}

/// Where each log source of `server_id` was stored up to.
pub fn cursors(conn: &Connection, server_id: i64) -> Result<Vec<LogCursor>, StoreError> {
    let mut stmt = conn.prepare_cached(
        r#"SELECT source, path, device, inode, "offset" FROM log_cursors
           WHERE server_id = ?1 ORDER BY source"#,
    )?;
    let rows = stmt.query_map(params![server_id], |row| {
        Ok(LogCursor {
            source: row.get(0)?,
            path: row.get(1)?,
            device: to_u64(row.get(2)?),
            inode: to_u64(row.get(3)?),
            offset: to_u64(row.get(4)?),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn line_from(row: &Row<'_>) -> rusqlite::Result<LogLine> {
    let level: String = row.get("level")?;
    let events: Option<String> = row.get("events")?;
    Ok(LogLine {
        seq: row.get("seq")?,
        source: row.get("source")?,
        at: row.get("at")?,
        level: level_of(&level),
        game_time: row.get("game_time")?,
        text: row.get("text")?,
        // Written by this module; an unreadable value is shown without its events.
        events: events
            .and_then(|e| serde_json::from_str(&e).ok())
            .unwrap_or_default(),
    })
}

/// Up to `limit` lines of `server_id` with seq greater than `after`, oldest first.
pub fn after(
    conn: &Connection,
    server_id: i64,
    after: i64,
    limit: u32,
) -> Result<Vec<LogLine>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, source, at, level, game_time, text, events FROM server_logs
         WHERE server_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![server_id, after, limit], line_from)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Up to `limit` lines of `server_id` with seq less than `before` (all when none), newest
/// first: the page a reader scrolling back sees.
pub fn before(
    conn: &Connection,
    server_id: i64,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<LogLine>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, source, at, level, game_time, text, events FROM server_logs
         WHERE server_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(
        params![server_id, before.unwrap_or(i64::MAX), limit],
        line_from,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The highest seq stored for `server_id`, 0 when none.
pub fn last_seq(conn: &Connection, server_id: i64) -> Result<i64, StoreError> {
    Ok(conn
        .query_row(
            "SELECT MAX(seq) FROM server_logs WHERE server_id = ?1",
            params![server_id],
            |row| row.get::<_, Option<i64>>(0),
        )
        .optional()?
        .flatten()
        .unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::servers::{self, NewServer};

    fn db() -> (Connection, i64) {
        let mut conn = Connection::open_in_memory().expect("open");
        crate::store::migrations::apply(&mut conn).expect("migrate");
        let server = servers::insert(
            &conn,
            &NewServer::new("one", "generic", serde_json::json!({})),
        )
        .expect("server");
        (conn, server.id)
    }

    fn line(text: &str) -> NewLogLine {
        NewLogLine {
            source: "console".into(),
            at: 1_700_000_000_000,
            level: Level::Info,
            game_time: None,
            text: text.into(),
            events: Vec::new(),
        }
    }

    #[test]
    fn lines_and_cursors_are_stored_together_with_gap_free_sequences() {
        let (mut conn, id) = db();
        let cursor = LogCursor {
            source: "console".into(),
            path: "/srv/console.log".into(),
            device: 2049,
            inode: u64::MAX - 1,
            offset: 12,
        };
        let first = append(
            &mut conn,
            id,
            vec![line("a"), line("b")],
            std::slice::from_ref(&cursor),
        )
        .expect("append");
        assert_eq!(first.iter().map(|l| l.seq).collect::<Vec<_>>(), [1, 2]);
        let mut ready = line("ready");
        ready.level = Level::Warning;
        ready.events = vec![GameEvent::ServerReady];
        let moved = LogCursor {
            offset: 30,
            ..cursor.clone()
        };
        let second =
            append(&mut conn, id, vec![ready], std::slice::from_ref(&moved)).expect("append");
        assert_eq!(second[0].seq, 3);
        assert_eq!(cursors(&conn, id).expect("cursors"), [moved]);
        assert_eq!(last_seq(&conn, id).expect("last"), 3);

        let all = after(&conn, id, 0, 10).expect("after");
        assert_eq!(
            all.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
            ["a", "b", "ready"]
        );
        assert_eq!(all[2].events, vec![GameEvent::ServerReady]);
        assert_eq!(all[2].level, Level::Warning);
        let back = before(&conn, id, Some(3), 1).expect("before");
        assert_eq!(back[0].text, "b");
        assert!(after(&conn, id, 3, 10).expect("after").is_empty());
    }

    #[test]
    fn a_failed_batch_stores_neither_lines_nor_cursor() {
        let (mut conn, id) = db();
        let cursor = LogCursor {
            source: "console".into(),
            path: "/srv/console.log".into(),
            device: 1,
            inode: 2,
            offset: 3,
        };
        // Unknown server: the foreign key fails the whole batch.
        assert!(append(&mut conn, id + 100, vec![line("x")], &[cursor]).is_err());
        assert!(cursors(&conn, id + 100).expect("cursors").is_empty());
        assert_eq!(last_seq(&conn, id + 100).expect("last"), 0);
    }
}
