package io.flowgate.deployments;

/** Every query of {@link ApiKeyRepository}, in one place. Each query of a profile's key filters on its profile. */
final class ApiKeySql {
  static final String COLUMNS = "id, profile_id, deployment_id, key_hash, masked, name, active, expires_at,"
      + " created_at, last_used_at, replaced_by";

  static final String INSERT = "INSERT INTO api_keys (id, profile_id, deployment_id, key_hash, masked, name,"
      + " expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING " + COLUMNS;

  /** Inserts a deployment's key only if that deployment belongs to the profile. */
  static final String INSERT_FOR_DEPLOYMENT = "INSERT INTO api_keys (id, profile_id, deployment_id, key_hash, masked,"
      + " name, expires_at) SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS"
      + " (SELECT 1 FROM deployments WHERE id = $3 AND profile_id = $2) RETURNING " + COLUMNS;

  static final String LIST = "SELECT " + COLUMNS + " FROM api_keys WHERE profile_id = $1 ORDER BY created_at, id";

  static final String LIST_FOR_DEPLOYMENT = "SELECT " + COLUMNS + " FROM api_keys"
      + " WHERE profile_id = $1 AND deployment_id = $2 ORDER BY created_at, id";

  static final String GET = "SELECT " + COLUMNS + " FROM api_keys WHERE id = $1 AND profile_id = $2";

  static final String GET_FOR_UPDATE = GET + " FOR UPDATE";

  static final String SET_ACTIVE = "UPDATE api_keys SET active = $3 WHERE id = $1 AND profile_id = $2"
      + " RETURNING " + COLUMNS;

  /**
   * The end of a rotation: the old key names its replacement and expires at the end of the overlap ({@code $3}
   * seconds from now, by the database's clock), or sooner if it was due to expire before.
   */
  static final String RETIRE = "UPDATE api_keys SET replaced_by = $3,"
      + " expires_at = LEAST(COALESCE(expires_at, 'infinity'), now() + make_interval(secs => $4))"
      + " WHERE id = $1 AND profile_id = $2 RETURNING " + COLUMNS;

  static final String DELETE = "DELETE FROM api_keys WHERE id = $1 AND profile_id = $2";

  /** Used by the hot-path key cache: the hash is the credential, so no profile filter. */
  static final String FIND_BY_HASH = "SELECT " + COLUMNS + " FROM api_keys WHERE key_hash = $1";

  /**
   * The batched {@code last_used_at} write: one statement for all the keys a node used since its last write, never
   * moving a time backwards (another node may have written a later minute). The notify trigger ignores it.
   */
  static final String TOUCH = "UPDATE api_keys k SET last_used_at = u.at"
      + " FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, at)"
      + " WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at)";

  private ApiKeySql() {
  }
}
