-- 0001: the core tables. Game servers, the jobs run on them, each job's output, and the
-- history a user scrolls through. Timestamps are RFC 3339 UTC text written by the store.
-- Users arrive in a later migration; until then `owner_id` has no foreign key.

CREATE TABLE servers (
    id                  INTEGER PRIMARY KEY,
    name                TEXT    NOT NULL,
    -- The game adapter that manages this server; also names the runtime it uses.
    adapter_id          TEXT    NOT NULL,
    owner_id            INTEGER NULL,
    -- JSON object. Secret values arrive already encrypted: the store never sees plaintext.
    settings            TEXT    NOT NULL CHECK (json_valid(settings)),
    desired_state       TEXT    NOT NULL DEFAULT 'stopped'
                        CHECK (desired_state IN ('running', 'stopped')),
    actual_state        TEXT    NOT NULL DEFAULT 'stopped'
                        CHECK (actual_state IN ('unmanaged', 'stopped', 'starting', 'running',
                                                'stopping', 'crashed')),
    exit_code           INTEGER NULL,
    -- The game process, identified by pid plus its start time in clock ticks since boot
    -- (/proc/<pid>/stat field 22), so a recycled pid is never mistaken for it.
    pid                 INTEGER NULL CHECK (pid IS NULL OR pid > 0),
    pid_start_time      INTEGER NULL CHECK (pid_start_time IS NULL OR pid_start_time >= 0),
    last_error          TEXT    NULL,
    restart_enabled     INTEGER NOT NULL DEFAULT 1 CHECK (restart_enabled IN (0, 1)),
    restart_max         INTEGER NOT NULL DEFAULT 3 CHECK (restart_max >= 0),
    restart_window_secs INTEGER NOT NULL DEFAULT 600 CHECK (restart_window_secs > 0),
    stop_grace_secs     INTEGER NOT NULL DEFAULT 30 CHECK (stop_grace_secs >= 0),
    -- An existing install registered by an administrator instead of one the host manages.
    runtime_path        TEXT    NULL,
    created_at          TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at          TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    -- Soft delete: the row stays so that jobs and events keep their server.
    deleted_at          TEXT    NULL,
    CHECK ((pid IS NULL) = (pid_start_time IS NULL))
) STRICT;

CREATE INDEX servers_by_adapter ON servers (adapter_id);

CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY,
    server_id        INTEGER NULL REFERENCES servers (id),
    -- The adapter whose shared runtime an install or update touches.
    runtime_adapter  TEXT    NULL,
    kind             TEXT    NOT NULL
                     CHECK (kind IN ('install', 'update', 'initialize', 'start', 'stop',
                                     'restart', 'kill', 'delete')),
    state            TEXT    NOT NULL DEFAULT 'queued'
                     CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    requested_by     TEXT    NOT NULL,
    progress         REAL    NULL CHECK (progress IS NULL OR (progress >= 0 AND progress <= 100)),
    exit_code        INTEGER NULL,
    error            TEXT    NULL,
    cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),
    created_at       TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    started_at       TEXT    NULL,
    finished_at      TEXT    NULL,
    CHECK (server_id IS NOT NULL OR runtime_adapter IS NOT NULL),
    CHECK (runtime_adapter IS NULL OR kind IN ('install', 'update'))
) STRICT;

CREATE INDEX jobs_by_state ON jobs (state, id);
CREATE INDEX jobs_by_server ON jobs (server_id, id);
CREATE INDEX jobs_by_runtime ON jobs (runtime_adapter, state) WHERE runtime_adapter IS NOT NULL;
-- The database's own guard for "one running job per server"; claiming already ensures it.
CREATE UNIQUE INDEX jobs_one_running_per_server ON jobs (server_id)
    WHERE state = 'running' AND server_id IS NOT NULL;

CREATE TABLE job_logs (
    job_id INTEGER NOT NULL REFERENCES jobs (id),
    -- Gap-free and strictly increasing per job, starting at 1.
    seq    INTEGER NOT NULL CHECK (seq > 0),
    stream TEXT    NOT NULL CHECK (stream IN ('stdout', 'stderr', 'system')),
    line   TEXT    NOT NULL,
    at     TEXT    NOT NULL,
    PRIMARY KEY (job_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE server_events (
    id        INTEGER PRIMARY KEY,
    server_id INTEGER NOT NULL REFERENCES servers (id),
    at        TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    kind      TEXT    NOT NULL,
    message   TEXT    NOT NULL,
    data      TEXT    NULL CHECK (data IS NULL OR json_valid(data))
) STRICT;

CREATE INDEX server_events_by_server ON server_events (server_id, id);
