-- Sync faults by kind (issue 15). A job is never failed for good any more: an err binding's import stays queued on a
-- slow schedule, so jobs failed by earlier versions are queued again at once.
-- unexpected_failures counts unexpected exceptions in a row (bounded before err); last_error_at says when last_error
-- happened; tenants.last_claimed_at orders due jobs fairly across tenants (the tenant served longest ago goes first).
ALTER TABLE sync_jobs ADD COLUMN unexpected_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_jobs ADD COLUMN last_error_at BIGINT;
ALTER TABLE tenants ADD COLUMN last_claimed_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX sync_jobs_leased ON sync_jobs (lease_expires_at);
UPDATE sync_jobs SET state = 'queued', attempts = 0
WHERE kind = 'import' AND state = 'failed' AND binding_key IN (SELECT id FROM exchange_bindings);
