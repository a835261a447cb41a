package io.flowgate.deployments;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Flows and their immutable versions in PostgreSQL. Definitions are validated before they get here (see
 * {@link FlowValidation}); every PUT adds a version, and deployments pin one. Thread-safe; every method returns a
 * Future.
 */
public final class FlowRepository {
  private final Pool pool;

  public FlowRepository(Pool pool) {
    this.pool = pool;
  }

  /** Stores a new flow at version 1. */
  public Future<StoredFlow> create(UUID profileId, JsonObject definition) {
    UUID id = UUID.randomUUID();
    String name = definition.getString("name");
    return pool.withTransaction(conn -> conn.preparedQuery(FlowSql.INSERT_FLOW)
            .execute(Tuple.of(id, profileId, name))
            .compose(v -> conn.preparedQuery(FlowSql.INSERT_VERSION).execute(Tuple.of(id, 1, definition)))
            .compose(v -> conn.preparedQuery(FlowSql.SELECT_BY_ID).execute(Tuple.of(id, profileId))))
        .map(rows -> Rows.firstOrNull(rows, Rows::flow));
  }

  /** The profile's flows at their latest versions, oldest first. */
  public Future<List<StoredFlow>> list(UUID profileId) {
    return pool.preparedQuery(FlowSql.LIST).execute(Tuple.of(profileId)).map(rows -> Rows.all(rows, Rows::flow));
  }

  /** The flow {@code id} of the profile at its latest version, or null when the profile has no such flow. */
  public Future<StoredFlow> get(UUID profileId, UUID id) {
    return pool.preparedQuery(FlowSql.SELECT_BY_ID).execute(Tuple.of(id, profileId))
        .map(rows -> Rows.firstOrNull(rows, Rows::flow));
  }

  /**
   * Adds {@code definition} as the flow's next version; deployments stay pinned to theirs until redeployed. Fails
   * with 404 {@code not_found} when the profile has no such flow.
   */
  public Future<StoredFlow> update(UUID profileId, UUID id, JsonObject definition) {
    return pool.withTransaction(conn -> conn.preparedQuery(FlowSql.LOCK_LATEST).execute(Tuple.of(id, profileId))
            .compose(rows -> {
              Integer latest = Rows.firstOrNull(rows, row -> row.getInteger("latest_version"));
              if (latest == null) {
                return Future.failedFuture(notFound(id));
              }
              int next = latest + 1;
              return conn.preparedQuery(FlowSql.INSERT_VERSION).execute(Tuple.of(id, next, definition))
                  .compose(v -> conn.preparedQuery(FlowSql.BUMP_LATEST)
                      .execute(Tuple.of(id, profileId, next, definition.getString("name"))))
                  .compose(v -> conn.preparedQuery(FlowSql.SELECT_BY_ID).execute(Tuple.of(id, profileId)));
            }))
        .map(rows -> Rows.firstOrNull(rows, Rows::flow));
  }

  /**
   * Deletes the flow and all its versions. Fails with 404 {@code not_found} when the profile has no such flow, and
   * with 409 {@code conflict} naming the deployments that still use it.
   */
  public Future<Void> delete(UUID profileId, UUID id) {
    return pool.<Void>withTransaction(conn -> conn.preparedQuery(FlowSql.LOCK_LATEST).execute(Tuple.of(id, profileId))
            .compose(rows -> {
              if (rows.size() == 0) {
                return Future.failedFuture(notFound(id));
              }
              return conn.preparedQuery(FlowSql.USED_BY).execute(Tuple.of(id, profileId));
            })
            .compose(users -> {
              if (users.size() > 0) {
                return Future.failedFuture(inUse(id, users));
              }
              return conn.preparedQuery(FlowSql.DELETE).execute(Tuple.of(id, profileId)).mapEmpty();
            }))
        .recover(failure -> Rows.isSqlState(failure, Rows.FOREIGN_KEY_VIOLATION)
            ? Future.failedFuture(new GatewayException(ErrorCode.CONFLICT, "Flow " + id
                + " is used by a deployment created a moment ago; delete that deployment first, then retry."))
            : Future.failedFuture(failure));
  }

  /** The latest version number of the profile's flow, or null. */
  public Future<Integer> latestVersion(UUID profileId, UUID flowId) {
    return pool.preparedQuery(FlowSql.LATEST_VERSION).execute(Tuple.of(flowId, profileId))
        .map(rows -> Rows.firstOrNull(rows, row -> row.getInteger("latest_version")));
  }

  /**
   * The definition of {@code version} of flow {@code flowId}, or null. No profile filter: the trigger calls this only
   * after the deployment that pins this version was authorised.
   */
  public Future<JsonObject> findVersion(UUID flowId, int version) {
    return pool.preparedQuery(FlowSql.FIND_VERSION).execute(Tuple.of(flowId, version))
        .map(rows -> Rows.firstOrNull(rows, row -> row.getJsonObject("definition")));
  }

  static GatewayException notFound(UUID id) {
    return new GatewayException(ErrorCode.NOT_FOUND,
        "No flow " + id + " exists in this profile; list your flows with GET /api/v1/flows.");
  }

  private static GatewayException inUse(UUID id, Iterable<Row> users) {
    List<String> names = new ArrayList<>();
    for (Row row : users) {
      names.add("'" + row.getString("name") + "' (" + row.getUUID("id") + ")");
    }
    return new GatewayException(ErrorCode.CONFLICT, "Flow " + id + " is still used by "
        + (names.size() == 1 ? "deployment " : "deployments ") + String.join(", ", names)
        + "; delete them or point them at another flow first.");
  }
}
