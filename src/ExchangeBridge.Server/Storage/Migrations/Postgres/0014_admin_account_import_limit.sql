-- How many import jobs of an admin account Exchange admits (issue 19). Null: the connector's ceiling
-- (Import:MaxJobsPerEwsAdminAccount, MaxJobsPerGraphAdminAccount). When Exchange refuses the account for concurrency the
-- limit is set to half the jobs it was running (import_limit) at that moment (import_limit_at); the claim grows it back
-- by one job every Import:AdminAccountGrowMilliseconds since, up to the ceiling, without writing. Kept here, not in an
-- instance, so that every instance sharing the database follows the same limit.
ALTER TABLE exchange_admin_accounts ADD COLUMN import_limit INTEGER;
ALTER TABLE exchange_admin_accounts ADD COLUMN import_limit_at BIGINT;
