-- An app's bot capability, the platform's per-app setting: a tenant token acts as the app itself only with it (190007).
ALTER TABLE apps ADD COLUMN bot_enabled INTEGER NOT NULL DEFAULT 0;

-- An EWS admin account on a plain http:// endpoint sends its password in clear: only when the operator accepted that.
ALTER TABLE exchange_admin_accounts ADD COLUMN allow_cleartext_password INTEGER NOT NULL DEFAULT 0;

-- Resigning a user revokes their tokens (marked, found by this index); users resigned before that rule have theirs
-- revoked now, and their pending codes deleted.
ALTER TABLE access_tokens ADD COLUMN revoked_at INTEGER;
CREATE INDEX access_tokens_user ON access_tokens (tenant_key, user_id);
UPDATE access_tokens SET revoked_at = (
    SELECT u.resigned_at FROM users u WHERE u.tenant_key = access_tokens.tenant_key AND u.user_id = access_tokens.user_id)
WHERE user_id IS NOT NULL AND EXISTS (
    SELECT 1 FROM users u WHERE u.tenant_key = access_tokens.tenant_key AND u.user_id = access_tokens.user_id AND u.resigned_at IS NOT NULL);
DELETE FROM authorization_codes WHERE EXISTS (
    SELECT 1 FROM users u WHERE u.tenant_key = authorization_codes.tenant_key AND u.user_id = authorization_codes.user_id AND u.resigned_at IS NOT NULL);
