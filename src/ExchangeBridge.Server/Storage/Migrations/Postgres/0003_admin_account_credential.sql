-- What an Exchange admin account's secret_protected holds: 'secret' (an EWS password or a Graph client secret) or
-- 'certificate' (a Graph app's certificate and private key, PEM). Both are encrypted under the master key alike.
ALTER TABLE exchange_admin_accounts ADD COLUMN credential_kind TEXT NOT NULL DEFAULT 'secret';
