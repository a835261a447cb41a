package io.flowgate.deployments;

import io.vertx.core.buffer.Buffer;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** Row → record mapping shared by the repositories, and PostgreSQL error classification. Any thread. */
final class Rows {
  static final String UNIQUE_VIOLATION = "23505";
  static final String FOREIGN_KEY_VIOLATION = "23503";

  private Rows() {
  }

  static Instant instant(Row row, String column) {
    OffsetDateTime t = row.getOffsetDateTime(column);
    return t == null ? null : t.toInstant();
  }

  static <T> List<T> all(RowSet<Row> rows, Function<Row, T> mapper) {
    List<T> out = new ArrayList<>(rows.size());
    for (Row row : rows) {
      out.add(mapper.apply(row));
    }
    return out;
  }

  static <T> T firstOrNull(RowSet<Row> rows, Function<Row, T> mapper) {
    var it = rows.iterator();
    return it.hasNext() ? mapper.apply(it.next()) : null;
  }

  static Deployment deployment(Row row) {
    return new Deployment(
        row.getUUID("id"),
        row.getUUID("profile_id"),
        row.getUUID("flow_id"),
        row.getInteger("flow_version"),
        row.getString("name"),
        ExecutionMode.fromWire(row.getString("execution_mode")),
        DeploymentType.fromWire(row.getString("deployment_type")),
        row.getInteger("timeout_seconds"),
        row.getInteger("max_body_bytes"),
        row.getJsonObject("rate_limit"),
        row.getJsonObject("notification"),
        row.getUUID("inference_server_id"),
        instant(row, "created_at"),
        instant(row, "updated_at"));
  }

  static ApiKey apiKey(Row row) {
    Buffer hash = row.getBuffer("key_hash");
    return new ApiKey(
        row.getUUID("id"),
        row.getUUID("profile_id"),
        row.getUUID("deployment_id"),
        hash == null ? null : hash.getBytes(),
        row.getString("masked"),
        row.getString("name"),
        row.getBoolean("active"),
        instant(row, "expires_at"),
        instant(row, "created_at"),
        instant(row, "last_used_at"),
        row.getUUID("replaced_by"));
  }

  static StoredFlow flow(Row row) {
    return new StoredFlow(
        row.getUUID("id"),
        row.getUUID("profile_id"),
        row.getString("name"),
        row.getInteger("latest_version"),
        row.getJsonObject("definition"),
        instant(row, "created_at"),
        instant(row, "updated_at"));
  }

  static Profile profile(Row row) {
    return new Profile(row.getUUID("id"), row.getString("name"), instant(row, "created_at"));
  }

  /** Whether {@code failure} is a PostgreSQL error with {@code sqlState}. */
  static boolean isSqlState(Throwable failure, String sqlState) {
    return failure instanceof PgException pg && sqlState.equals(pg.getSqlState());
  }

  /** The constraint a PostgreSQL error names, or null. */
  static String constraint(Throwable failure) {
    return failure instanceof PgException pg ? pg.getConstraint() : null;
  }
}
