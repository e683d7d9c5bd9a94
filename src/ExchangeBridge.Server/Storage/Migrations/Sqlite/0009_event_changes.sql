-- Issue 17: what changed in the imported calendars, for sync tokens and for events pushed to apps.
-- A stream is one calendar's events ('calendar:<calendar_id>') or one user's calendar list ('user:<tenant>:<user>'). Its
-- counter row is updated by the very write that logs a change, so the row lock orders the stream's changes by commit:
-- a reader never sees seq n+1 while n is still uncommitted (PostgreSQL's identities would give no such promise).
CREATE TABLE change_streams (
    stream    TEXT PRIMARY KEY,
    last_seq  INTEGER NOT NULL
);

-- The change log: an event created, updated or deleted (event_id set), or a calendar created, renamed or removed
-- (event_id NULL). removed_payload keeps what a removed event or calendar last was, to answer it as cancelled/deleted.
CREATE TABLE calendar_changes (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    stream           TEXT NOT NULL,
    seq              INTEGER NOT NULL,
    calendar_id      TEXT NOT NULL,
    event_id         TEXT,
    change_type      TEXT NOT NULL,
    removed_payload  TEXT,
    created_at       INTEGER NOT NULL,
    UNIQUE (stream, seq)
);

-- An app's event subscription settings, as the developer console holds them (our operator API stands in for it).
-- The encrypt key is a secret, protected with the master key like app secrets.
CREATE TABLE app_event_settings (
    app_id                  TEXT PRIMARY KEY,
    tenant_key              TEXT NOT NULL,
    request_url             TEXT NOT NULL,
    verification_token      TEXT NOT NULL,
    encrypt_key_protected   TEXT,
    event_types             TEXT NOT NULL,
    verified_at             INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL
);

-- What users subscribed an app to: their calendar list (kind 'calendars', calendar_id '') or one calendar's events.
CREATE TABLE event_subscriptions (
    app_id       TEXT NOT NULL,
    tenant_key   TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    calendar_id  TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (app_id, user_id, kind, calendar_id)
);
CREATE INDEX event_subscriptions_target ON event_subscriptions (tenant_key, kind, calendar_id);

-- The outbox: one row per event an app is to receive, written in the transaction of the change that caused it. Its
-- event_id is fixed here, so a redelivery carries the same one. Delivered in id order per (app, order_key).
CREATE TABLE event_deliveries (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id          TEXT NOT NULL UNIQUE,
    app_id            TEXT NOT NULL,
    tenant_key        TEXT NOT NULL,
    event_type        TEXT NOT NULL,
    order_key         TEXT NOT NULL,
    event_body        TEXT NOT NULL,
    create_time       INTEGER NOT NULL,
    state             TEXT NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   INTEGER NOT NULL,
    lease_owner       TEXT,
    lease_expires_at  INTEGER,
    last_error        TEXT,
    delivered_at      INTEGER,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX event_deliveries_due ON event_deliveries (state, next_attempt_at);
CREATE INDEX event_deliveries_order ON event_deliveries (app_id, order_key, state, id);
CREATE INDEX event_deliveries_recent ON event_deliveries (tenant_key, updated_at);
