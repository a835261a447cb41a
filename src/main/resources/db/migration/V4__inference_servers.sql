-- Inference servers (DESIGN §1.4): fast deployments forward to one. A server is either a list of replica base URLs
-- or a launch command that each gateway node starts on demand. The live state (booting, ready, ...) is not stored:
-- every node keeps its own, from its own health checks.
CREATE TABLE inference_servers (
  id             uuid PRIMARY KEY,
  profile_id     uuid NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
  name           text NOT NULL,
  protocol       text NOT NULL CHECK (protocol IN ('passthrough', 'open_inference_v2')),
  model          text,
  predict_path   text,
  ready_path     text,
  replicas       text[],
  launch         jsonb,
  timeout_ms     integer NOT NULL CHECK (timeout_ms > 0),
  max_in_flight  integer NOT NULL CHECK (max_in_flight > 0),
  created_at     timestamptz NOT NULL DEFAULT now(),
  CHECK ((replicas IS NULL) <> (launch IS NULL))
);
CREATE INDEX inference_servers_profile ON inference_servers (profile_id, created_at);
CREATE INDEX deployments_inference_server ON deployments (inference_server_id) WHERE inference_server_id IS NOT NULL;

-- Every node's runtime reloads (or drops) a server when it changes, whoever changes it.
CREATE TRIGGER inference_servers_changed AFTER INSERT OR UPDATE OR DELETE ON inference_servers
  FOR EACH ROW EXECUTE FUNCTION flowgate_notify_change();
