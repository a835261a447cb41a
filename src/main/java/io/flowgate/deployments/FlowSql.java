package io.flowgate.deployments;

/** Every query of {@link FlowRepository}, in one place. Each query of a profile's flow filters on its profile. */
final class FlowSql {
  private static final String COLUMNS =
      "f.id, f.profile_id, f.name, f.latest_version, f.created_at, f.updated_at, v.definition";

  static final String INSERT_FLOW = "INSERT INTO flows (id, profile_id, name, latest_version) VALUES ($1, $2, $3, 1)";

  static final String INSERT_VERSION = "INSERT INTO flow_versions (flow_id, version, definition) VALUES ($1, $2, $3)";

  static final String SELECT_BY_ID = "SELECT " + COLUMNS + " FROM flows f"
      + " JOIN flow_versions v ON v.flow_id = f.id AND v.version = f.latest_version"
      + " WHERE f.id = $1 AND f.profile_id = $2";

  static final String LIST = "SELECT " + COLUMNS + " FROM flows f"
      + " JOIN flow_versions v ON v.flow_id = f.id AND v.version = f.latest_version"
      + " WHERE f.profile_id = $1 ORDER BY f.created_at, f.id";

  /** Locks the flow row, so that concurrent updates number their versions one after the other. */
  static final String LOCK_LATEST = "SELECT latest_version FROM flows WHERE id = $1 AND profile_id = $2 FOR UPDATE";

  static final String BUMP_LATEST = "UPDATE flows SET latest_version = $3, name = $4, updated_at = now()"
      + " WHERE id = $1 AND profile_id = $2";

  static final String LATEST_VERSION = "SELECT latest_version FROM flows WHERE id = $1 AND profile_id = $2";

  static final String USED_BY = "SELECT id, name FROM deployments WHERE flow_id = $1 AND profile_id = $2"
      + " ORDER BY created_at, id";

  static final String DELETE = "DELETE FROM flows WHERE id = $1 AND profile_id = $2";

  /** Used by the trigger after the deployment was authorised: no profile filter by design. */
  static final String FIND_VERSION = "SELECT definition FROM flow_versions WHERE flow_id = $1 AND version = $2";

  private FlowSql() {
  }
}
