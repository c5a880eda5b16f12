-- 0006: bans a server's users asked for, kept by the host and pushed to the game over RCon.
--
-- The host's list is the truth: a ban is a row before any command is sent, and whenever a
-- server's remote console connects the host pushes the bans its game lacks (a reinstall or
-- a fresh server forgets them). A lifted ban keeps its row as a tombstone (`lifted_at`) until
-- the game has been told, so lifting one while the server is stopped still reaches the game.

CREATE TABLE bans (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    server_id   INTEGER NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    -- What the adapter bans by (Steam id, GUID, address), as the user or the game gave it.
    identity    TEXT    NOT NULL COLLATE NOCASE CHECK (length(identity) BETWEEN 1 AND 100),
    -- The player's name when they were banned while online, for people reading the list.
    player_name TEXT    NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    -- Who banned: the user, and the API key when one was used. No foreign keys, like the
    -- audit log, so that a ban outlives the account that made it.
    user_id     INTEGER NULL,
    api_key_id  INTEGER NULL,
    created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    -- When a timed ban ends; NULL for a permanent one.
    expires_at  TEXT    NULL,
    -- When the game last took the ban (pushed, or seen in its list); NULL until then.
    pushed_at   TEXT    NULL,
    -- Set when lifted; the row goes once the game has been told.
    lifted_at   TEXT    NULL,
    UNIQUE (server_id, identity)
) STRICT;
