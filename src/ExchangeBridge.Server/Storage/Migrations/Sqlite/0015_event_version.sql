-- Each event row's version, counted up by every upsert that rewrites it (issue 17). Free/busy keeps the parse of a
-- series master (its rule, zone and occurrences) in memory under the row's id and this version, reads only the two of
-- a master on each request, and parses again when the version it reads is not the one it holds. Ids are never reused
-- (AUTOINCREMENT), so (id, version) names one content of one row; a deleted row is simply no longer read.
ALTER TABLE events ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
-- events_long serves every series master to the free/busy statement from the index alone (0013): it now holds the
-- version too.
DROP INDEX events_long;
CREATE INDEX events_long ON events (calendar_key, end_ms, start_ms, recurrence, event_id, version, exchange_item_id, series_item_id,
    free_busy_status, status, self_rsvp_status, start_date, start_timestamp, time_zone, end_date, end_timestamp)
    WHERE end_ms - start_ms > 86400000 OR recurrence IS NOT NULL;
-- The exceptions (modified and deleted occurrences) alone, by their series: the range reads look up each series master's
-- exceptions, some 2,500 lookups a free/busy request for 100 users, nearly all finding none. In events_series, which
-- holds every event, each lookup descends a tree of a million entries whose pages the reads keep evicting; this one
-- holds only the few rows that are exceptions.
CREATE INDEX events_exceptions ON events (calendar_key, series_item_id) WHERE series_item_id IS NOT NULL;
