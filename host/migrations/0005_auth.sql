-- 0005: people and automation that may use the API, what they may touch, and what they did.
--
-- Users and API keys use AUTOINCREMENT so that an id is never reused after a delete: servers
-- keep `owner_id` and the audit log keeps user and key ids after the row is gone, and a new
-- account must not inherit either.

CREATE TABLE users (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Unique regardless of case: "Admin" and "admin" are one account.
    username         TEXT    NOT NULL UNIQUE COLLATE NOCASE
                     CHECK (length(username) BETWEEN 1 AND 64),
    -- argon2id PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash); never a password.
    password_hash    TEXT    NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    role             TEXT    NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    disabled         INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    -- Session tokens carry the generation they were issued under; bumping it (password
    -- change, disable, role change, logout) revokes every token issued before.
    token_generation INTEGER NOT NULL DEFAULT 0 CHECK (token_generation >= 0),
    created_at       TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at       TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- Access to one server for a user who neither owns it nor is an administrator.
CREATE TABLE server_grants (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    server_id  INTEGER NOT NULL REFERENCES servers (id),
    role       TEXT    NOT NULL CHECK (role IN ('operator', 'viewer')),
    created_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (user_id, server_id)
) STRICT, WITHOUT ROWID;

-- "Who may see this server" walks grants by server.
CREATE INDEX server_grants_by_server ON server_grants (server_id);

CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- The key's public beginning ("gar_" and a few characters), shown in lists.
    prefix       TEXT    NOT NULL,
    -- SHA-256 of the whole key. Keys are 32+ random bytes, so a fast hash is enough.
    hash         BLOB    NOT NULL UNIQUE CHECK (length(hash) = 32),
    -- Never above the owner's role; the owner's current role caps it again at use.
    role         TEXT    NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    created_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_used_at TEXT    NULL,
    revoked_at   TEXT    NULL
) STRICT;

CREATE INDEX api_keys_by_user ON api_keys (user_id, id);

-- One row per mutating API call, successful or not. Ids of users and keys are kept without a
-- foreign key so that history survives deleting them; `actor` keeps the name as it was.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    user_id    INTEGER NULL,
    api_key_id INTEGER NULL,
    actor      TEXT    NULL,
    -- Method and route, e.g. "POST /api/v1/users".
    action     TEXT    NOT NULL,
    -- What was acted on, e.g. "/api/v1/users/7" or "user 7".
    target     TEXT    NULL,
    -- The client's socket address, or "unknown".
    client     TEXT    NOT NULL,
    -- The HTTP status of the answer.
    status     INTEGER NOT NULL CHECK (status BETWEEN 100 AND 599),
    CHECK (api_key_id IS NULL OR user_id IS NOT NULL)
) STRICT;

CREATE INDEX audit_log_by_user ON audit_log (user_id, id) WHERE user_id IS NOT NULL;
