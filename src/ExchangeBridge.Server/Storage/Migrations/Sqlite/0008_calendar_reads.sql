-- Range reads (instance view, free/busy) find short events by their start (events_calendar_time) and the few long rows
-- by their end: series masters, whose span runs to the series' end, and multi-day events. The condition is the one
-- Storage/EventRangeReads.cs writes, so the planner can use this index for it.
CREATE INDEX events_long ON events (calendar_key, end_ms) WHERE end_ms - start_ms > 86400000;
