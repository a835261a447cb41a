-- The durable record of runs, written in batches off the hot path. Redis holds the live state for polling.
CREATE TABLE run_history (
  id              uuid PRIMARY KEY,
  profile_id      uuid NOT NULL,
  deployment_id   uuid NOT NULL,
  flow_id         uuid,
  flow_version    integer,
  execution_mode  text NOT NULL,
  deployment_type text NOT NULL,
  status          text NOT NULL,
  error           jsonb,
  node_id         text,
  created_at      timestamptz NOT NULL,
  started_at      timestamptz,
  finished_at     timestamptz,
  duration_ms     double precision
);
CREATE INDEX run_history_deployment ON run_history (deployment_id, created_at DESC);
