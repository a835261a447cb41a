-- Key rotation (issue #6): a rotated key names the key that replaced it; its expires_at ends its overlap window.
ALTER TABLE api_keys ADD COLUMN replaced_by uuid;

-- last_used_at is written by every node in batches (at most once a minute per key and node). Such a write changes
-- nothing the hot path caches, so it must not announce a change: every other update still does.
DROP TRIGGER api_keys_changed ON api_keys;
CREATE TRIGGER api_keys_changed AFTER INSERT OR DELETE ON api_keys
  FOR EACH ROW EXECUTE FUNCTION flowgate_notify_change();
CREATE TRIGGER api_keys_updated AFTER UPDATE ON api_keys
  FOR EACH ROW WHEN ((to_jsonb(OLD) - 'last_used_at') IS DISTINCT FROM (to_jsonb(NEW) - 'last_used_at'))
  EXECUTE FUNCTION flowgate_notify_change();

-- Usage of deployments, kept without a write per request: every node counts calls in memory per deployment, key and
-- minute and writes its running totals of each minute every few seconds (one row per writer, replaced, so a retried
-- write never counts twice). 'writer' is the node id plus a per-process suffix: a restarted node starts new rows.
-- Latencies are counts per fixed bucket (io.flowgate.usage.LatencyHistogram), so percentiles merge across nodes.
CREATE TABLE usage_minutes (
  deployment_id   uuid NOT NULL,
  api_key_id      uuid NOT NULL,
  minute          timestamptz NOT NULL,
  writer          text NOT NULL,
  calls           bigint NOT NULL,
  errors          jsonb NOT NULL,
  latency         bigint[] NOT NULL,
  latency_sum_ms  double precision NOT NULL,
  last_call_at    timestamptz NOT NULL,
  PRIMARY KEY (deployment_id, minute, api_key_id, writer)
);
CREATE INDEX usage_minutes_minute ON usage_minutes (minute);

-- Runs that went through the queue (or ran in the background), per deployment and minute of their end: how long they
-- waited to start and how long they executed, as bucket counts like usage_minutes.latency.
CREATE TABLE run_usage_minutes (
  deployment_id     uuid NOT NULL,
  minute            timestamptz NOT NULL,
  writer            text NOT NULL,
  runs              bigint NOT NULL,
  queue_wait        bigint[] NOT NULL,
  queue_wait_sum_ms double precision NOT NULL,
  execution         bigint[] NOT NULL,
  execution_sum_ms  double precision NOT NULL,
  PRIMARY KEY (deployment_id, minute, writer)
);
CREATE INDEX run_usage_minutes_minute ON run_usage_minutes (minute);
