-- Identity: tenants, their apps and users; one open_id per (app, user).
CREATE TABLE tenants (
    tenant_key   TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);

CREATE TABLE apps (
    app_id            TEXT PRIMARY KEY,
    tenant_key        TEXT NOT NULL REFERENCES tenants (tenant_key),
    name              TEXT NOT NULL,
    secret_protected  TEXT NOT NULL,
    scopes            TEXT NOT NULL,
    deleted_at        INTEGER,
    created_at        INTEGER NOT NULL
);
CREATE INDEX apps_tenant ON apps (tenant_key);

CREATE TABLE users (
    tenant_key      TEXT NOT NULL REFERENCES tenants (tenant_key),
    user_id         TEXT NOT NULL,
    union_id        TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    email           TEXT,
    is_super_admin  INTEGER NOT NULL DEFAULT 0,
    resigned_at     INTEGER,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (tenant_key, user_id)
);

CREATE TABLE open_ids (
    open_id     TEXT PRIMARY KEY,
    app_id      TEXT NOT NULL REFERENCES apps (app_id),
    tenant_key  TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    UNIQUE (app_id, user_id)
);

-- Operators of this deployment (our extension): keys stored hashed.
CREATE TABLE operator_keys (
    key_hash    TEXT PRIMARY KEY,
    created_at  INTEGER NOT NULL
);

-- Tokens and codes are stored under their SHA-256 only.
CREATE TABLE access_tokens (
    token_hash  TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    app_id      TEXT NOT NULL,
    tenant_key  TEXT NOT NULL,
    user_id     TEXT,
    scopes      TEXT,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX access_tokens_expiry ON access_tokens (expires_at);

CREATE TABLE authorization_codes (
    code_hash     TEXT PRIMARY KEY,
    app_id        TEXT NOT NULL,
    tenant_key    TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    redirect_uri  TEXT,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER
);

-- Exchange admin accounts: an address belongs to one tenant at most, hence the global key.
CREATE TABLE exchange_admin_accounts (
    email               TEXT PRIMARY KEY,
    tenant_key          TEXT NOT NULL REFERENCES tenants (tenant_key),
    connector           TEXT NOT NULL,
    endpoint            TEXT NOT NULL,
    username            TEXT NOT NULL,
    secret_protected    TEXT NOT NULL,
    graph_tenant_id     TEXT,
    graph_client_id     TEXT,
    verification_state  TEXT NOT NULL,
    verification_error  TEXT,
    verified_at         INTEGER,
    created_at          INTEGER NOT NULL
);

-- A binding's public id is derived from its addresses; its internal id keys what it imported, so that an
-- unbind's clean-up never touches a later binding of the same addresses. AUTOINCREMENT: SQLite would otherwise
-- reuse the id of a deleted last row, handing a new binding the old one's jobs and calendars.
CREATE TABLE exchange_bindings (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    exchange_binding_id   TEXT NOT NULL UNIQUE,
    tenant_key            TEXT NOT NULL REFERENCES tenants (tenant_key),
    admin_account         TEXT NOT NULL,
    exchange_account      TEXT NOT NULL,
    exchange_account_key  TEXT NOT NULL,
    user_id               TEXT NOT NULL,
    status                TEXT NOT NULL,
    error_reason          TEXT,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    UNIQUE (tenant_key, exchange_account_key),
    UNIQUE (tenant_key, user_id)
);

-- The durable work queue: a row per job, leased by one worker at a time.
CREATE TABLE sync_jobs (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    binding_key       INTEGER NOT NULL,
    tenant_key        TEXT NOT NULL,
    kind              TEXT NOT NULL,
    state             TEXT NOT NULL,
    run_at            INTEGER NOT NULL,
    lease_owner       TEXT,
    lease_expires_at  INTEGER,
    attempts          INTEGER NOT NULL DEFAULT 0,
    last_error        TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX sync_jobs_due ON sync_jobs (state, run_at);
CREATE INDEX sync_jobs_binding ON sync_jobs (binding_key);
