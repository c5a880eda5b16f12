-- 0003: players. Who is on each server now, and everyone a server has seen.
--
-- A player is keyed per server by the game's stable identity (Steam id, BattlEye GUID) when
-- it reports one, else by slot and name (`player_key`, built by the host).

CREATE TABLE players_online (
    server_id  INTEGER NOT NULL REFERENCES servers (id),
    player_key TEXT    NOT NULL,
    -- The game's id for this connection (used to kick or ban).
    slot       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    unique_id  TEXT    NULL,
    address    TEXT    NULL,
    ping_ms    INTEGER NULL,
    joined_at  TEXT    NOT NULL,
    PRIMARY KEY (server_id, player_key)
) STRICT, WITHOUT ROWID;

CREATE TABLE player_history (
    server_id    INTEGER NOT NULL REFERENCES servers (id),
    player_key   TEXT    NOT NULL,
    unique_id    TEXT    NULL,
    -- The name last seen, and every name used (JSON array of strings, oldest first).
    name         TEXT    NOT NULL,
    names        TEXT    NOT NULL CHECK (json_valid(names)),
    last_address TEXT    NULL,
    first_seen   TEXT    NOT NULL,
    last_seen    TEXT    NOT NULL,
    sessions     INTEGER NOT NULL DEFAULT 0 CHECK (sessions >= 0),
    PRIMARY KEY (server_id, player_key)
) STRICT;

CREATE INDEX player_history_by_last_seen ON player_history (server_id, last_seen);
