-- Which claim of a job holds its lease (issue 19). lease_owner names the instance, and an instance's workers share it,
-- so a job whose lease ran out while its worker still ran, and that another worker of the same instance then claimed,
-- was run by both: each renewal and each release matched the owner. Every claim now writes a token of its own, and a
-- renewal or release counts only with the token of the claim that holds the lease.
ALTER TABLE sync_jobs ADD COLUMN lease_claim TEXT;
