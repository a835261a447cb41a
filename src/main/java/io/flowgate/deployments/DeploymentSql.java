package io.flowgate.deployments;

/** Every query of {@link DeploymentRepository}, in one place. Each query of a profile's resource filters on it. */
final class DeploymentSql {
  static final String COLUMNS = "id, profile_id, flow_id, flow_version, name, execution_mode, deployment_type,"
      + " timeout_seconds, max_body_bytes, rate_limit, notification, inference_server_id, created_at, updated_at";

  static final String FLOW_FOR_PIN = "SELECT name, latest_version FROM flows WHERE id = $1 AND profile_id = $2";

  static final String INSERT = "INSERT INTO deployments (id, profile_id, flow_id, flow_version, name, execution_mode,"
      + " deployment_type, timeout_seconds, max_body_bytes, rate_limit, notification, inference_server_id)"
      + " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING " + COLUMNS;

  static final String LIST = "SELECT " + COLUMNS + " FROM deployments WHERE profile_id = $1 ORDER BY created_at, id";

  static final String GET = "SELECT " + COLUMNS + " FROM deployments WHERE id = $1 AND profile_id = $2";

  static final String GET_FOR_UPDATE = GET + " FOR UPDATE";

  static final String UPDATE = "UPDATE deployments SET flow_id = $3, flow_version = $4, name = $5,"
      + " execution_mode = $6, deployment_type = $7, timeout_seconds = $8, max_body_bytes = $9, rate_limit = $10,"
      + " notification = $11, inference_server_id = $12, updated_at = now()"
      + " WHERE id = $1 AND profile_id = $2 RETURNING " + COLUMNS;

  static final String REDEPLOY = "UPDATE deployments d SET flow_version = f.latest_version, updated_at = now()"
      + " FROM flows f WHERE d.id = $1 AND d.profile_id = $2 AND f.id = d.flow_id AND f.profile_id = $2"
      + " RETURNING d.id, d.profile_id, d.flow_id, d.flow_version, d.name, d.execution_mode, d.deployment_type,"
      + " d.timeout_seconds, d.max_body_bytes, d.rate_limit, d.notification, d.inference_server_id, d.created_at,"
      + " d.updated_at";

  static final String DELETE = "DELETE FROM deployments WHERE id = $1 AND profile_id = $2";

  /** Used by the hot-path cache after the key was checked: no profile filter by design. */
  static final String FIND_BY_ID = "SELECT " + COLUMNS + " FROM deployments WHERE id = $1";

  /** The signing secret of a deployment's first webhook, made with it. */
  static final String INSERT_WEBHOOK_ENDPOINT = "INSERT INTO webhook_endpoints (deployment_id, profile_id, secret)"
      + " VALUES ($1, $2, $3)";

  /**
   * A PATCH that sets a webhook: a deployment without a secret gets {@code $3}; one that has a secret keeps it, and
   * an endpoint disabled by a 410 is enabled again. {@code inserted} says which.
   */
  static final String UPSERT_WEBHOOK_ENDPOINT = "INSERT INTO webhook_endpoints (deployment_id, profile_id, secret)"
      + " VALUES ($1, $2, $3) ON CONFLICT (deployment_id) DO UPDATE SET disabled_at = NULL, disabled_reason = NULL"
      + " RETURNING (xmax = 0) AS inserted";

  private DeploymentSql() {
  }
}
