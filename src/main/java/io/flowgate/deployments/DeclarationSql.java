package io.flowgate.deployments;

/**
 * Every query of {@link Declarations}, in one place. Declared resources live in the {@code default} profile ($2 or the
 * named parameter below); upserts only ever touch rows of that profile.
 */
final class DeclarationSql {
  /** Serialises applies of several nodes starting at once; released at commit. */
  static final String LOCK = "SELECT pg_advisory_xact_lock(hashtext('flowgate.declarations'))";

  static final String FLOW_STATE = "SELECT f.profile_id, f.latest_version, v.definition = $2 AS same FROM flows f"
      + " LEFT JOIN flow_versions v ON v.flow_id = f.id AND v.version = f.latest_version WHERE f.id = $1";

  static final String INSERT_FLOW = "INSERT INTO flows (id, profile_id, name, latest_version) VALUES ($1, $2, $3, 1)"
      + " ON CONFLICT (id) DO NOTHING";

  static final String INSERT_VERSION = "INSERT INTO flow_versions (flow_id, version, definition) VALUES ($1, $2, $3)"
      + " ON CONFLICT (flow_id, version) DO NOTHING";

  static final String BUMP_FLOW = "UPDATE flows SET latest_version = $3, name = $4, updated_at = now()"
      + " WHERE id = $1 AND profile_id = $2";

  static final String DEPLOYMENT_OWNER = "SELECT profile_id FROM deployments WHERE id = $1";

  /** Rewrites a declared deployment only when something differs, so restarts do not churn caches. */
  static final String UPSERT_DEPLOYMENT = "INSERT INTO deployments (id, profile_id, flow_id, flow_version, name,"
      + " execution_mode, deployment_type, timeout_seconds, max_body_bytes, rate_limit, notification,"
      + " inference_server_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
      + " ON CONFLICT (id) DO UPDATE SET flow_id = EXCLUDED.flow_id, flow_version = EXCLUDED.flow_version,"
      + " name = EXCLUDED.name, execution_mode = EXCLUDED.execution_mode,"
      + " deployment_type = EXCLUDED.deployment_type, timeout_seconds = EXCLUDED.timeout_seconds,"
      + " max_body_bytes = EXCLUDED.max_body_bytes, rate_limit = EXCLUDED.rate_limit,"
      + " notification = EXCLUDED.notification, inference_server_id = EXCLUDED.inference_server_id,"
      + " updated_at = now()"
      + " WHERE deployments.profile_id = EXCLUDED.profile_id AND (deployments.flow_id, deployments.flow_version,"
      + " deployments.name, deployments.execution_mode, deployments.deployment_type, deployments.timeout_seconds,"
      + " deployments.max_body_bytes, deployments.rate_limit, deployments.notification,"
      + " deployments.inference_server_id) IS DISTINCT FROM (EXCLUDED.flow_id, EXCLUDED.flow_version, EXCLUDED.name,"
      + " EXCLUDED.execution_mode, EXCLUDED.deployment_type, EXCLUDED.timeout_seconds, EXCLUDED.max_body_bytes,"
      + " EXCLUDED.rate_limit, EXCLUDED.notification, EXCLUDED.inference_server_id)";

  static final String KEY_OWNER = "SELECT profile_id FROM api_keys WHERE id = $1";

  /** Leaves {@code active} alone: an operator's deactivation survives restarts. */
  static final String UPSERT_KEY = "INSERT INTO api_keys (id, profile_id, deployment_id, key_hash, masked, name)"
      + " VALUES ($1, $2, $3, $4, $5, $6)"
      + " ON CONFLICT (id) DO UPDATE SET deployment_id = EXCLUDED.deployment_id, key_hash = EXCLUDED.key_hash,"
      + " masked = EXCLUDED.masked, name = EXCLUDED.name"
      + " WHERE api_keys.profile_id = EXCLUDED.profile_id AND (api_keys.deployment_id, api_keys.key_hash,"
      + " api_keys.masked, api_keys.name) IS DISTINCT FROM (EXCLUDED.deployment_id, EXCLUDED.key_hash,"
      + " EXCLUDED.masked, EXCLUDED.name)";

  private DeclarationSql() {
  }
}
