-- Async runs are recorded here before their 202 is sent: PostgreSQL is the record that a run was accepted, and the
-- reconciler re-enqueues accepted runs that Redis lost. The input is kept for that; outputs for history after the
-- Redis state expires.
ALTER TABLE run_history
  ADD COLUMN input_data    jsonb,
  ADD COLUMN output_data   jsonb,
  ADD COLUMN node_outputs  jsonb,
  ADD COLUMN deadline_at   timestamptz,
  ADD COLUMN origin_node   text,
  ADD COLUMN request_id    text;

-- The reconciler and the reaper look only at runs that have not ended.
CREATE INDEX run_history_open ON run_history (created_at) WHERE status IN ('queued', 'running');
CREATE INDEX run_history_deployment_status ON run_history (deployment_id, status, created_at DESC);
