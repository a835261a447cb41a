-- Profiles own every resource. The bootstrap admin token acts for the 'default' profile.
CREATE TABLE profiles (
  id          uuid PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  token_hash  bytea UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO profiles (id, name) VALUES ('00000000-0000-0000-0000-000000000000', 'default');

CREATE TABLE flows (
  id              uuid PRIMARY KEY,
  profile_id      uuid NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
  name            text NOT NULL,
  latest_version  integer NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX flows_profile ON flows (profile_id, created_at);

-- Every PUT of a flow adds a version; deployments pin one. Versions are immutable.
CREATE TABLE flow_versions (
  flow_id     uuid NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
  version     integer NOT NULL,
  definition  jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (flow_id, version)
);

CREATE TABLE deployments (
  id                   uuid PRIMARY KEY,
  profile_id           uuid NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
  flow_id              uuid REFERENCES flows (id),
  flow_version         integer,
  name                 text NOT NULL,
  execution_mode       text NOT NULL CHECK (execution_mode IN ('sync', 'async', 'fast')),
  deployment_type      text NOT NULL CHECK (deployment_type IN ('api', 'server')),
  timeout_seconds      integer CHECK (timeout_seconds > 0),
  max_body_bytes       integer CHECK (max_body_bytes > 0),
  rate_limit           jsonb,
  notification         jsonb,
  inference_server_id  uuid,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (flow_id, flow_version) REFERENCES flow_versions (flow_id, version)
);
CREATE INDEX deployments_profile ON deployments (profile_id, created_at);
CREATE INDEX deployments_flow ON deployments (flow_id);

-- Keys are stored only as SHA-256 hashes; 'masked' is the display form (first 8 + ******** + last 5).
CREATE TABLE api_keys (
  id             uuid PRIMARY KEY,
  profile_id     uuid NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
  deployment_id  uuid REFERENCES deployments (id) ON DELETE CASCADE,
  key_hash       bytea NOT NULL UNIQUE,
  masked         text NOT NULL,
  name           text,
  active         boolean NOT NULL DEFAULT true,
  expires_at     timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  last_used_at   timestamptz
);
CREATE INDEX api_keys_profile ON api_keys (profile_id, created_at);
CREATE INDEX api_keys_deployment ON api_keys (deployment_id);

-- Every change to what the hot path caches is announced on one channel, whoever makes it (the API, declarations
-- applied at start, or a person with psql), so that every node drops its cached copy at once.
CREATE FUNCTION flowgate_notify_change() RETURNS trigger AS $$
DECLARE
  row_id uuid;
  payload text;
BEGIN
  IF TG_OP = 'DELETE' THEN
    row_id := OLD.id;
  ELSE
    row_id := NEW.id;
  END IF;
  payload := TG_TABLE_NAME || ':' || row_id::text;
  IF TG_TABLE_NAME = 'api_keys' THEN
    payload := payload || ':' || encode(CASE WHEN TG_OP = 'DELETE' THEN OLD.key_hash ELSE NEW.key_hash END, 'hex');
  END IF;
  PERFORM pg_notify('flowgate_changes', payload);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER deployments_changed AFTER INSERT OR UPDATE OR DELETE ON deployments
  FOR EACH ROW EXECUTE FUNCTION flowgate_notify_change();
CREATE TRIGGER api_keys_changed AFTER INSERT OR UPDATE OR DELETE ON api_keys
  FOR EACH ROW EXECUTE FUNCTION flowgate_notify_change();
CREATE TRIGGER profiles_changed AFTER UPDATE OR DELETE ON profiles
  FOR EACH ROW EXECUTE FUNCTION flowgate_notify_change();
