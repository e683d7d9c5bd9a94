-- PostgreSQL twin of Sqlite/0012_event_busy_columns.sql.
ALTER TABLE events
    ADD COLUMN free_busy_status TEXT,
    ADD COLUMN status TEXT,
    ADD COLUMN self_rsvp_status TEXT,
    ADD COLUMN start_date TEXT,
    ADD COLUMN start_timestamp TEXT,
    ADD COLUMN time_zone TEXT,
    ADD COLUMN end_date TEXT,
    ADD COLUMN end_timestamp TEXT,
    ADD COLUMN recurrence TEXT;
UPDATE events SET
    free_busy_status = p.doc ->> 'free_busy_status',
    status = p.doc ->> 'status',
    self_rsvp_status = p.doc ->> 'self_rsvp_status',
    start_date = p.doc -> 'start_time' ->> 'date',
    start_timestamp = p.doc -> 'start_time' ->> 'timestamp',
    time_zone = p.doc -> 'start_time' ->> 'timezone',
    end_date = p.doc -> 'end_time' ->> 'date',
    end_timestamp = p.doc -> 'end_time' ->> 'timestamp',
    recurrence = p.doc ->> 'recurrence'
FROM (SELECT id, payload::jsonb AS doc FROM events) p
WHERE events.id = p.id;
