-- Free/busy reads what it needs of an event from these narrow columns rather than from its payload (issue 17): a
-- request over a week of 100 users otherwise reads megabytes of JSON for some fifty bytes a row. They copy the payload's
-- own values (EventPayloads writes both), so the answers are the same: whether it shows as free, whether it is
-- cancelled, the owner's answer, its start and end as the payload gives them (an all-day event's dates, otherwise its
-- seconds and its start's zone) and, for a series master, its rule, from which its occurrences are expanded.
ALTER TABLE events ADD COLUMN free_busy_status TEXT;
ALTER TABLE events ADD COLUMN status TEXT;
ALTER TABLE events ADD COLUMN self_rsvp_status TEXT;
ALTER TABLE events ADD COLUMN start_date TEXT;
ALTER TABLE events ADD COLUMN start_timestamp TEXT;
ALTER TABLE events ADD COLUMN time_zone TEXT;
ALTER TABLE events ADD COLUMN end_date TEXT;
ALTER TABLE events ADD COLUMN end_timestamp TEXT;
ALTER TABLE events ADD COLUMN recurrence TEXT;
UPDATE events SET
    free_busy_status = json_extract(payload, '$.free_busy_status'),
    status = json_extract(payload, '$.status'),
    self_rsvp_status = json_extract(payload, '$.self_rsvp_status'),
    start_date = json_extract(payload, '$.start_time.date'),
    start_timestamp = json_extract(payload, '$.start_time.timestamp'),
    time_zone = json_extract(payload, '$.start_time.timezone'),
    end_date = json_extract(payload, '$.end_time.date'),
    end_timestamp = json_extract(payload, '$.end_time.timestamp'),
    recurrence = json_extract(payload, '$.recurrence');
