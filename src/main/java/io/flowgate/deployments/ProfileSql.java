package io.flowgate.deployments;

/** Every query of {@link ProfileRepository}, in one place. */
final class ProfileSql {
  static final String INSERT = "INSERT INTO profiles (id, name, token_hash) VALUES ($1, $2, $3)"
      + " RETURNING id, name, created_at";

  static final String FIND_BY_TOKEN_HASH = "SELECT id FROM profiles WHERE token_hash = $1";

  static final String FIND_BY_ID = "SELECT id, name, created_at FROM profiles WHERE id = $1";

  private ProfileSql() {
  }
}
