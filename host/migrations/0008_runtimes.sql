-- 0008: what the host knows of each game's shared install (`runtimes/<adapter>/`, used by
-- every server of that adapter that has no install path of its own). A row appears when an
-- install or update into it succeeds (a runtime job, or a server's install job) and is
-- replaced by the next one. The job id has no foreign key: retention may purge a deleted
-- server's jobs, and the install they made stays.
CREATE TABLE runtimes (
    adapter_id  TEXT    PRIMARY KEY,
    -- The job whose install or update succeeded last.
    job_id      INTEGER NOT NULL,
    -- When it succeeded (RFC 3339 UTC).
    updated_at  TEXT    NOT NULL,
    -- The Steam app SteamCMD installed and the build it reported in its app manifest
    -- (`steamapps/appmanifest_<app>.acf`); null when the plan had no SteamCMD step or no
    -- manifest was found.
    app_id      INTEGER NULL CHECK (app_id IS NULL OR app_id >= 0),
    build_id    TEXT    NULL
) STRICT;
