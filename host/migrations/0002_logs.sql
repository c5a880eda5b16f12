-- 0002: server logs. Every line the host reads from a running server's logs (after the
-- adapter's parser), and how far each log source has been read, so that a restarted host
-- resumes exactly where the stored lines end.
--
-- Log lines are the host's busiest table: times are integer milliseconds since the Unix
-- epoch (compact and cheap to compare), the key is (server, sequence) so an insert touches
-- one b-tree, and retention walks each server's oldest lines in key order.

CREATE TABLE server_logs (
    server_id INTEGER NOT NULL REFERENCES servers (id),
    -- Gap-free and strictly increasing per server, starting at 1.
    seq       INTEGER NOT NULL CHECK (seq > 0),
    -- When the host read the line (ms since the epoch).
    at        INTEGER NOT NULL,
    -- The adapter's name for the log source ("console", ...).
    source    TEXT    NOT NULL,
    level     TEXT    NOT NULL CHECK (level IN ('debug', 'info', 'warning', 'error')),
    -- The time the game wrote on the line, as the adapter normalised it.
    game_time TEXT    NULL,
    text      TEXT    NOT NULL,
    -- JSON array of the typed events read from the line; NULL for most lines.
    events    TEXT    NULL CHECK (events IS NULL OR json_valid(events)),
    PRIMARY KEY (server_id, seq)
) STRICT, WITHOUT ROWID;

-- Where each source of a server was read up to: the file (by path and identity, so a
-- replaced file is read from its start) and the byte offset just past the last line stored.
CREATE TABLE log_cursors (
    server_id  INTEGER NOT NULL REFERENCES servers (id),
    source     TEXT    NOT NULL,
    path       TEXT    NOT NULL,
    device     INTEGER NOT NULL,
    inode      INTEGER NOT NULL,
    "offset"   INTEGER NOT NULL CHECK ("offset" >= 0),
    PRIMARY KEY (server_id, source)
) STRICT, WITHOUT ROWID;
