-- The operators' console (issue 18). When a binding last reached each stage of its import (done's first time is
-- imported_at), so an operator sees how far it got and when.
ALTER TABLE exchange_bindings ADD COLUMN cal_done_at INTEGER;
ALTER TABLE exchange_bindings ADD COLUMN timespan_done_at INTEGER;
-- The bindings page pages through a tenant's bindings by id (keyset), filtered by status or not.
CREATE INDEX exchange_bindings_tenant_page ON exchange_bindings (tenant_key, id);
CREATE INDEX exchange_bindings_tenant_status_page ON exchange_bindings (tenant_key, status, id);
-- The overview counts the events imported (or updated) per minute over the last hour.
CREATE INDEX events_updated ON events (updated_at);
