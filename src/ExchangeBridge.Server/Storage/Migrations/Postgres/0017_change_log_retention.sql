-- Issue 17: the change log is kept for Events:ChangeRetentionDays, not for ever. pruned_seq is the highest sequence number
-- of the stream that was deleted: a sync_token at or after it still reads every change since; one before it is answered
-- 190008 (expired), and the client lists in full again.
ALTER TABLE change_streams ADD COLUMN pruned_seq BIGINT NOT NULL DEFAULT 0;
