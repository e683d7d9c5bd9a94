-- Free/busy reads its rows from these two indexes alone (issue 17): the narrow columns of 0012 were added by ALTER TABLE,
-- so in the table they sit after the ~1.6 KB payload and every row read there cost a page. Each index now holds, beside
-- its key, what the range statement of free/busy reads of the rows it serves (EventRangeReads.RangeSql):
-- - events_calendar_time: the short rows that are no series master (singles, modified and deleted occurrences), by
--   start; they need only their times, id and answer facts. Its key is unchanged, so every other read by calendar and
--   start still uses it.
-- - events_long: the long rows and every series master (a master of one occurrence can be short), by end; a master also
--   needs its item id (its exceptions are found by it), its rule and its start and end as the payload has them.
--   Partial as before, so it stays small: most events are short singles.
-- The exceptions of a series are still found by events_series and read from the table: they are few.
DROP INDEX events_calendar_time;
CREATE INDEX events_calendar_time ON events (calendar_key, start_ms, end_ms, recurrence, event_id, series_item_id, free_busy_status,
    status, self_rsvp_status);
DROP INDEX events_long;
CREATE INDEX events_long ON events (calendar_key, end_ms, start_ms, recurrence, event_id, exchange_item_id, series_item_id,
    free_busy_status, status, self_rsvp_status, start_date, start_timestamp, time_zone, end_date, end_timestamp)
    WHERE end_ms - start_ms > 86400000 OR recurrence IS NOT NULL;
