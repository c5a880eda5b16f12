-- 0004: metrics. Samples of running servers (CPU, memory, figures the game reports) and of
-- the host itself, raw for a day and as one-minute rollups for a month.
--
-- `server_id` 0 is the host; it has no row in `servers`, so there is no foreign key. Times
-- are integer milliseconds since the Unix epoch, like log lines.

CREATE TABLE metrics (
    server_id INTEGER NOT NULL,
    name      TEXT    NOT NULL,
    at        INTEGER NOT NULL,
    value     REAL    NOT NULL,
    PRIMARY KEY (server_id, name, at)
) STRICT, WITHOUT ROWID;

CREATE INDEX metrics_by_time ON metrics (at);

CREATE TABLE metrics_1m (
    server_id INTEGER NOT NULL,
    name      TEXT    NOT NULL,
    -- Start of the minute.
    at        INTEGER NOT NULL,
    avg       REAL    NOT NULL,
    min       REAL    NOT NULL,
    max       REAL    NOT NULL,
    samples   INTEGER NOT NULL CHECK (samples > 0),
    PRIMARY KEY (server_id, name, at)
) STRICT, WITHOUT ROWID;

CREATE INDEX metrics_1m_by_time ON metrics_1m (at);
