package io.flowgate.deployments;

/** Every query of {@link ApiKeyRepository}, in one place. Each query of a profile's key filters on its profile. */
final class ApiKeySql {
  static final String COLUMNS =
      "id, profile_id, deployment_id, key_hash, masked, name, active, expires_at, created_at, last_used_at";

  static final String INSERT = "INSERT INTO api_keys (id, profile_id, deployment_id, key_hash, masked, name)"
      + " VALUES ($1, $2, $3, $4, $5, $6) RETURNING " + COLUMNS;

  /** Inserts a deployment's key only if that deployment belongs to the profile. */
  static final String INSERT_FOR_DEPLOYMENT = "INSERT INTO api_keys (id, profile_id, deployment_id, key_hash, masked,"
      + " name) SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS"
      + " (SELECT 1 FROM deployments WHERE id = $3 AND profile_id = $2) RETURNING " + COLUMNS;

  static final String LIST = "SELECT " + COLUMNS + " FROM api_keys WHERE profile_id = $1 ORDER BY created_at, id";

  static final String LIST_FOR_DEPLOYMENT = "SELECT " + COLUMNS + " FROM api_keys"
      + " WHERE profile_id = $1 AND deployment_id = $2 ORDER BY created_at, id";

  static final String GET = "SELECT " + COLUMNS + " FROM api_keys WHERE id = $1 AND profile_id = $2";

  static final String SET_ACTIVE = "UPDATE api_keys SET active = $3 WHERE id = $1 AND profile_id = $2"
      + " RETURNING " + COLUMNS;

  static final String DELETE = "DELETE FROM api_keys WHERE id = $1 AND profile_id = $2";

  /** Used by the hot-path key cache: the hash is the credential, so no profile filter. */
  static final String FIND_BY_HASH = "SELECT " + COLUMNS + " FROM api_keys WHERE key_hash = $1";

  private ApiKeySql() {
  }
}
