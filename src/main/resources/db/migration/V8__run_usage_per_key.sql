-- Queue wait and execution time per API key (issue #6): a run records the key whose trigger made it, and the usage
-- minutes of queued runs are kept per deployment, key and minute. Rows written before this migration (and runs
-- recorded without a key) have a NULL key: they count in the deployment's totals and in no key's.
ALTER TABLE run_history ADD COLUMN api_key_id uuid;

ALTER TABLE run_usage_minutes ADD COLUMN api_key_id uuid;
ALTER TABLE run_usage_minutes DROP CONSTRAINT run_usage_minutes_pkey;
-- One row per writer, deployment, key and minute; NULL (no key) is one more key here, so that a writer's keyless row is
-- replaced like the others (a plain unique index would treat every NULL as distinct, and NULLS NOT DISTINCT needs
-- PostgreSQL 15). A node of an older version writing during a rolling upgrade names the old key in its ON CONFLICT and
-- fails: its queued-run timings of that time are not written (its calls still are).
CREATE UNIQUE INDEX run_usage_minutes_row ON run_usage_minutes
  (deployment_id, minute, writer, coalesce(api_key_id, '00000000-0000-0000-0000-000000000000'::uuid));
