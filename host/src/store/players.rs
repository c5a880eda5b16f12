//! Players: who is on each server now (`players_online`) and everyone a server has seen
//! (`player_history`: first and last seen, sessions, names used).
//!
//! [`apply`] records one observed change — arrivals, departures, updated details — in one
//! transaction, with a server event per arrival and departure, so the live list, the history
//! and the server's timeline always agree. It returns the events it appended so that the
//! caller can publish them as they were stored.

use rusqlite::{Connection, Row, TransactionBehavior, params};
use serde::Serialize;

use super::StoreError;
use super::events::{self, NewEvent, ServerEvent};
use super::text::now;

/// A player on a server now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OnlinePlayer {
    /// The host's key for the player on this server (stable identity, else slot and name).
    pub key: String,
    /// The game's id for this connection (used to kick or ban).
    pub slot: String,
    /// Display name.
    pub name: String,
    /// Stable identity (Steam id, GUID), when the game reports one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unique_id: Option<String>,
    /// `ip:port`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Round-trip time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ping_ms: Option<u32>,
    /// When the host first saw this session (RFC 3339; set by the store).
    #[schema(format = DateTime)]
    pub joined_at: String,
}

/// Everything known about a player a server has seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PlayerRecord {
    /// The host's key for the player on this server.
    pub key: String,
    /// Stable identity, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unique_id: Option<String>,
    /// The name last seen.
    pub name: String,
    /// Every name used, oldest first.
    pub names: Vec<String>,
    /// The address last seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_address: Option<String>,
    /// First seen (RFC 3339).
    #[schema(format = DateTime)]
    pub first_seen: String,
    /// Last seen (RFC 3339).
    #[schema(format = DateTime)]
    pub last_seen: String,
    /// How many times they joined.
    pub sessions: i64,
}

/// A change observed on one server.
#[derive(Debug, Clone, Default)]
pub struct Change {
    /// Players who arrived (their `joined_at` is ignored: the store sets it).
    pub joined: Vec<OnlinePlayer>,
    /// Players who left, with why (`None`: they disconnected).
    pub left: Vec<(OnlinePlayer, Option<String>)>,
    /// Players still on whose details (name, slot, ping, address, an identity learnt late)
    /// changed; the key stays.
    pub updated: Vec<OnlinePlayer>,
}

/// What [`apply`] recorded.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    /// The players on the server afterwards, in order of arrival.
    pub online: Vec<OnlinePlayer>,
    /// The history rows appended (one per arrival and departure), in order.
    pub events: Vec<ServerEvent>,
}

impl Change {
    /// Whether anything changed.
    pub fn is_empty(&self) -> bool {
        self.joined.is_empty() && self.left.is_empty() && self.updated.is_empty()
    }
}

fn online_from(row: &Row<'_>) -> rusqlite::Result<OnlinePlayer> {
    let ping: Option<i64> = row.get("ping_ms")?;
    Ok(OnlinePlayer {
        key: row.get("player_key")?,
        slot: row.get("slot")?,
        name: row.get("name")?,
        unique_id: row.get("unique_id")?,
        address: row.get("address")?,
        ping_ms: ping.and_then(|p| u32::try_from(p).ok()),
        joined_at: row.get("joined_at")?,
    })
}

/// The players on `server_id` now, in order of arrival.
pub fn online(conn: &Connection, server_id: i64) -> Result<Vec<OnlinePlayer>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT player_key, slot, name, unique_id, address, ping_ms, joined_at
         FROM players_online WHERE server_id = ?1 ORDER BY joined_at, name",
    )?;
    let rows = stmt.query_map(params![server_id], online_from)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How many players each server has on it now (servers with none are absent).
pub fn online_counts(conn: &Connection) -> Result<std::collections::HashMap<i64, u32>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT server_id, COUNT(*) FROM players_online GROUP BY server_id")?;
    let rows = stmt.query_map([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, u32>(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Records `change` on `server_id`; returns the players on it afterwards and the history
/// rows appended.
pub fn apply(
    conn: &mut Connection,
    server_id: i64,
    change: &Change,
) -> Result<Applied, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut appended = Vec::with_capacity(change.joined.len() + change.left.len());
    {
        let mut insert = tx.prepare_cached(concat!(
            "INSERT INTO players_online
                 (server_id, player_key, slot, name, unique_id, address, ping_ms, joined_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ",
            now!(),
            ")
             ON CONFLICT (server_id, player_key) DO UPDATE SET
                 slot = excluded.slot, name = excluded.name, address = excluded.address,
                 unique_id = COALESCE(excluded.unique_id, unique_id), ping_ms = excluded.ping_ms"
        ))?;
        let mut seen = tx.prepare_cached(concat!(
            "INSERT INTO player_history
                 (server_id, player_key, unique_id, name, names, last_address, first_seen,
                  last_seen, sessions)
             VALUES (?1, ?2, ?3, ?4, json_array(?4), ?5, ",
            now!(),
            ", ",
            now!(),
            ", ?6)
             ON CONFLICT (server_id, player_key) DO UPDATE SET
                 unique_id = COALESCE(excluded.unique_id, unique_id),
                 name = excluded.name,
                 names = CASE
                     WHEN EXISTS (SELECT 1 FROM json_each(names) WHERE value = excluded.name)
                     THEN names
                     ELSE json_insert(names, '$[#]', excluded.name)
                 END,
                 last_address = COALESCE(excluded.last_address, last_address),
                 last_seen = excluded.last_seen,
                 sessions = sessions + excluded.sessions"
        ))?;
        for p in &change.joined {
            insert.execute(params![
                server_id,
                p.key,
                p.slot,
                p.name,
                p.unique_id,
                p.address,
                p.ping_ms
            ])?;
            seen.execute(params![server_id, p.key, p.unique_id, p.name, p.address, 1])?;
            appended.push(events::append(
                &tx,
                server_id,
                &NewEvent::new(events::kind::PLAYER_JOINED, format!("{} joined", p.name))
                    .with_data(player_data(p, None)),
            )?);
        }
        for p in &change.updated {
            insert.execute(params![
                server_id,
                p.key,
                p.slot,
                p.name,
                p.unique_id,
                p.address,
                p.ping_ms
            ])?;
            seen.execute(params![server_id, p.key, p.unique_id, p.name, p.address, 0])?;
        }
        let mut delete = tx.prepare_cached(
            "DELETE FROM players_online WHERE server_id = ?1 AND player_key = ?2",
        )?;
        for (p, reason) in &change.left {
            delete.execute(params![server_id, p.key])?;
            seen.execute(params![server_id, p.key, p.unique_id, p.name, p.address, 0])?;
            let message = match reason {
                Some(reason) => format!("{} left ({reason})", p.name),
                None => format!("{} left", p.name),
            };
            appended.push(events::append(
                &tx,
                server_id,
                &NewEvent::new(events::kind::PLAYER_LEFT, message)
                    .with_data(player_data(p, reason.as_deref())),
            )?);
        }
    }
    let now_online = online(&tx, server_id)?;
    tx.commit()?;
    Ok(Applied {
        online: now_online,
        events: appended,
    })
}

fn player_data(p: &OnlinePlayer, reason: Option<&str>) -> serde_json::Value {
    serde_json::json!({
        "key": p.key,
        "name": p.name,
        "slot": p.slot,
        "unique_id": p.unique_id,
        "reason": reason,
    })
}

/// Players `server_id` has seen, most recently seen first; `before` is the `last_seen` of
/// the previous page's last row (exclusive) for paging.
pub fn history(
    conn: &Connection,
    server_id: i64,
    before: Option<&str>,
    limit: u32,
) -> Result<Vec<PlayerRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT player_key, unique_id, name, names, last_address, first_seen, last_seen,
                sessions
         FROM player_history
         WHERE server_id = ?1 AND (?2 IS NULL OR last_seen < ?2)
         ORDER BY last_seen DESC, player_key LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![server_id, before, limit], |row| {
        let names: String = row.get("names")?;
        Ok(PlayerRecord {
            key: row.get("player_key")?,
            unique_id: row.get("unique_id")?,
            name: row.get("name")?,
            names: serde_json::from_str(&names).unwrap_or_default(),
            last_address: row.get("last_address")?,
            first_seen: row.get("first_seen")?,
            last_seen: row.get("last_seen")?,
            sessions: row.get("sessions")?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
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
            &NewServer::new("s", "generic", serde_json::json!({})),
        )
        .expect("server");
        (conn, server.id)
    }

    fn player(key: &str, name: &str) -> OnlinePlayer {
        OnlinePlayer {
            key: key.into(),
            slot: "0".into(),
            name: name.into(),
            unique_id: Some(key.into()),
            address: Some("127.0.0.1:2304".into()),
            ping_ms: Some(40),
            joined_at: String::new(),
        }
    }

    #[test]
    fn arrivals_and_departures_update_the_live_list_history_and_timeline() {
        let (mut conn, id) = db();
        let join = Change {
            joined: vec![player("g1", "Miller"), player("g2", "Kerry")],
            ..Change::default()
        };
        let applied = apply(&mut conn, id, &join).expect("join");
        let on = applied.online;
        assert_eq!(on.len(), 2);
        assert!(!on[0].joined_at.is_empty());
        let kinds: Vec<&str> = applied.events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            ["player_joined", "player_joined"],
            "one row per arrival"
        );
        assert_eq!(applied.events[0].message, "Miller joined");

        let mut renamed = player("g1", "Miller (medic)");
        renamed.ping_ms = Some(90);
        let change = Change {
            updated: vec![renamed],
            left: vec![(player("g2", "Kerry"), Some("kicked".into()))],
            ..Change::default()
        };
        let applied = apply(&mut conn, id, &change).expect("update");
        let on = applied.online;
        assert_eq!(on.len(), 1);
        let kinds: Vec<&str> = applied.events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["player_left"], "an update appends nothing");
        assert_eq!(on[0].name, "Miller (medic)");
        assert_eq!(on[0].ping_ms, Some(90));

        // Kerry comes back: a second session, same record.
        apply(
            &mut conn,
            id,
            &Change {
                joined: vec![player("g2", "Kerry")],
                ..Change::default()
            },
        )
        .expect("rejoin");
        let history = history(&conn, id, None, 10).expect("history");
        let kerry = history.iter().find(|p| p.key == "g2").expect("kerry");
        assert_eq!(kerry.sessions, 2);
        let miller = history.iter().find(|p| p.key == "g1").expect("miller");
        assert_eq!(miller.sessions, 1);
        assert_eq!(miller.names, ["Miller", "Miller (medic)"]);

        let timeline = events::list(&conn, id, None, 10).expect("events");
        let kinds: Vec<&str> = timeline.iter().rev().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "player_joined",
                "player_joined",
                "player_left",
                "player_joined"
            ]
        );
        assert!(timeline[1].message.contains("kicked"));
    }
}
