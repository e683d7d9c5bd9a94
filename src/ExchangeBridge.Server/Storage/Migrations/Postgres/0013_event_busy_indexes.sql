-- PostgreSQL twin of Sqlite/0013_event_busy_indexes.sql: the same keys, the columns free/busy reads as INCLUDE columns
-- (with id, which SQLite keeps in every index by itself), so the range statement is answered by index-only scans.
DROP INDEX events_calendar_time;
CREATE INDEX events_calendar_time ON events (calendar_key, start_ms)
    INCLUDE (end_ms, recurrence, id, event_id, series_item_id, free_busy_status, status, self_rsvp_status);
DROP INDEX events_long;
CREATE INDEX events_long ON events (calendar_key, end_ms)
    INCLUDE (start_ms, recurrence, id, event_id, exchange_item_id, series_item_id, free_busy_status, status, self_rsvp_status, start_date,
        start_timestamp, time_zone, end_date, end_timestamp)
    WHERE end_ms - start_ms > 86400000 OR recurrence IS NOT NULL;
