-- Roles and the owned example resource, items. Never edit an applied migration: add the next file.

-- Granted roles only: every account has 'user' without a row.
CREATE TABLE user_roles (
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role text NOT NULL,
  PRIMARY KEY (user_id, role)
);

CREATE TABLE items (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- The creation order, the keyset of the item pages; unique across every instance.
  sequence bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  -- Null in a public API (auth: none), where items belong to no one.
  owner_id uuid REFERENCES users (id) ON DELETE CASCADE,
  title text NOT NULL,
  done boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX items_owner_sequence ON items (owner_id, sequence DESC);
