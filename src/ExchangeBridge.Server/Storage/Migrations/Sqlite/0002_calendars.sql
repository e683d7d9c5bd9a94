-- Imported calendars: one per Exchange calendar folder of a binding, keyed by the binding's internal id so an
-- unbind's clean-up never touches a later binding of the same addresses. Import progress lives here, per folder.
CREATE TABLE calendars (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    calendar_id         TEXT NOT NULL UNIQUE,
    binding_key         INTEGER NOT NULL,
    tenant_key          TEXT NOT NULL,
    user_id             TEXT NOT NULL,
    exchange_folder_id  TEXT NOT NULL,
    summary             TEXT NOT NULL,
    is_primary          INTEGER NOT NULL DEFAULT 0,
    window_offset       INTEGER,
    window_done         INTEGER NOT NULL DEFAULT 0,
    sync_state          TEXT,
    history_done        INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    UNIQUE (binding_key, exchange_folder_id)
);
CREATE INDEX calendars_owner ON calendars (tenant_key, user_id);

-- Imported events, stored in the Open API's own shape (payload) beside the columns queries need.
-- An event is keyed by its Exchange identity, so a re-import updates instead of duplicating.
CREATE TABLE events (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id          TEXT NOT NULL UNIQUE,
    calendar_key      INTEGER NOT NULL,
    exchange_item_id  TEXT NOT NULL,
    series_item_id    TEXT,
    change_key        TEXT NOT NULL,
    start_ms          INTEGER NOT NULL,
    end_ms            INTEGER NOT NULL,
    payload           TEXT NOT NULL,
    updated_at        INTEGER NOT NULL,
    UNIQUE (calendar_key, exchange_item_id)
);
CREATE INDEX events_calendar_time ON events (calendar_key, start_ms);
CREATE INDEX events_series ON events (calendar_key, series_item_id);

ALTER TABLE exchange_bindings ADD COLUMN imported_at INTEGER;
ALTER TABLE exchange_bindings ADD COLUMN last_synced_at INTEGER;
