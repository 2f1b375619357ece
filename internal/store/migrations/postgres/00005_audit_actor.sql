-- +goose Up
-- Who acted, typed: actor_kind is adminToken, adminUser, developer, gateway
-- or system, actor_id the user id, gateway id or admin-token fingerprint.
-- The older actor column keeps its text ("admin-token", "system",
-- "developer:{id}", …). Entries written before this migration were all made
-- with the admin token or by the system.
ALTER TABLE audit_log ADD COLUMN actor_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN actor_id TEXT NOT NULL DEFAULT '';
UPDATE audit_log SET actor_kind = 'adminToken' WHERE actor = 'admin-token';
UPDATE audit_log SET actor_kind = 'system' WHERE actor = 'system';

-- +goose Down
ALTER TABLE audit_log DROP COLUMN actor_id;
ALTER TABLE audit_log DROP COLUMN actor_kind;
