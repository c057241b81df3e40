-- A revoked refresh-token family stays revoked, whatever tokens are issued into it afterwards:
-- a refresh that races the revocation (a thief and the real client presenting the same token at
-- once) can still insert a successor, and that successor is refused when it is used.
-- Never edit an applied migration: add the next file.

CREATE TABLE revoked_refresh_families (
  family uuid PRIMARY KEY,
  -- Past the expiry of any token the family can hold; expired rows are deleted.
  expires_at timestamptz NOT NULL
);

CREATE INDEX revoked_refresh_families_expires_at ON revoked_refresh_families (expires_at);
