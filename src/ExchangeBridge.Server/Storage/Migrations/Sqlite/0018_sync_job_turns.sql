-- Turns a job's import has had (issue 19): a job that has held its worker for ImportOptions.TurnMilliseconds while other
-- jobs are due hands its place back after the page it is on and queues again with one more turn; claims take the jobs
-- with the fewest turns first. A company's small mailboxes no longer wait for the large ones bound before them to finish.
-- Back to 0 when the import has gone through (JobStore.SyncedAsync).
ALTER TABLE sync_jobs ADD COLUMN turns INTEGER NOT NULL DEFAULT 0;
