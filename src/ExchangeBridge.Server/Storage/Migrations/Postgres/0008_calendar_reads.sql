-- PostgreSQL twin of Sqlite/0008_calendar_reads.sql.
CREATE INDEX events_long ON events (calendar_key, end_ms) WHERE end_ms - start_ms > 86400000;
