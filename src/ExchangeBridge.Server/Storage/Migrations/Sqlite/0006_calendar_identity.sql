-- Calendars are keyed by their folder and events by their item in the EWS form of the ids whatever the connector
-- (Core/Exchange/ExchangeIds): rows imported through Graph held Graph's REST form ('/' written '-', '+' written '_') and
-- are rewritten. Where a switch of connector already imported a folder or an item twice, the REST-form copy goes.
-- Calendar and event ids, which clients hold, are kept as they are.
CREATE TEMP TABLE graph_calendar_keys AS
    SELECT c.id FROM calendars c
    JOIN exchange_bindings b ON b.id = c.binding_key
    JOIN exchange_admin_accounts a ON a.email = LOWER(TRIM(b.admin_account))
    WHERE a.connector = 'graph';

CREATE TEMP TABLE duplicate_calendar_keys AS
    SELECT r.id FROM calendars r
    WHERE r.id IN (SELECT id FROM graph_calendar_keys)
      AND EXISTS (SELECT 1 FROM calendars e WHERE e.binding_key = r.binding_key AND e.id <> r.id
                  AND e.exchange_folder_id = REPLACE(REPLACE(r.exchange_folder_id, '-', '/'), '_', '+'));
DELETE FROM events WHERE calendar_key IN (SELECT id FROM duplicate_calendar_keys);
DELETE FROM calendars WHERE id IN (SELECT id FROM duplicate_calendar_keys);

DELETE FROM events WHERE id IN (
    SELECT r.id FROM events r
    WHERE r.calendar_key IN (SELECT id FROM graph_calendar_keys)
      AND EXISTS (SELECT 1 FROM events e WHERE e.calendar_key = r.calendar_key AND e.id <> r.id
                  AND e.exchange_item_id = REPLACE(REPLACE(r.exchange_item_id, '-', '/'), '_', '+')));

UPDATE events SET
    exchange_item_id = REPLACE(REPLACE(exchange_item_id, '-', '/'), '_', '+'),
    series_item_id = REPLACE(REPLACE(series_item_id, '-', '/'), '_', '+')
WHERE calendar_key IN (SELECT id FROM graph_calendar_keys);
UPDATE calendars SET exchange_folder_id = REPLACE(REPLACE(exchange_folder_id, '-', '/'), '_', '+')
WHERE id IN (SELECT id FROM graph_calendar_keys);

DROP TABLE duplicate_calendar_keys;
DROP TABLE graph_calendar_keys;

-- Each folder's own fault (its folder vanished mid-run, a refusal of that folder alone): the others sync on.
ALTER TABLE calendars ADD COLUMN sync_error TEXT;
-- A folder synced again from no state (a forgotten state, a switch of connector) lists every item but reports no
-- deletion: each such pass has a number, the items it lists are marked with it, and at its end what is unmarked is gone.
ALTER TABLE calendars ADD COLUMN resync_pass INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calendars ADD COLUMN resyncing INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN resync_pass INTEGER;
