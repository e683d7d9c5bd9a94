-- PostgreSQL twin of Sqlite/0015_event_version.sql: each event row's version, counted up by every upsert that rewrites
-- it, under which free/busy keeps a series master's parse (identities are never reused, so (id, version) names one
-- content of one row); events_long holds it for the index-only read of the masters.
ALTER TABLE events ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
DROP INDEX events_long;
CREATE INDEX events_long ON events (calendar_key, end_ms)
    INCLUDE (start_ms, recurrence, id, event_id, version, exchange_item_id, series_item_id, free_busy_status, status, self_rsvp_status,
        start_date, start_timestamp, time_zone, end_date, end_timestamp)
    WHERE end_ms - start_ms > 86400000 OR recurrence IS NOT NULL;
-- The exceptions (modified and deleted occurrences) alone, by their series: the range reads look up each series master's
-- exceptions, some 2,500 lookups a free/busy request for 100 users, nearly all finding none. In events_series, which
-- holds every event, each lookup descends a tree of a million entries whose pages the reads keep evicting; this one
-- holds only the few rows that are exceptions.
CREATE INDEX events_exceptions ON events (calendar_key, series_item_id) WHERE series_item_id IS NOT NULL;
