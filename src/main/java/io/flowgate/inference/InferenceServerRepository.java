package io.flowgate.inference;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;

/**
 * Inference servers in PostgreSQL, scoped by profile (another profile's server reads as missing). Thread-safe; every
 * method returns a Future.
 */
public final class InferenceServerRepository {
  private static final String COLUMNS = "id, profile_id, name, protocol, model, predict_path, ready_path, replicas,"
      + " launch, timeout_ms, max_in_flight, desired_state, revision, created_at";
  private static final String INSERT = "INSERT INTO inference_servers (id, profile_id, name, protocol, model,"
      + " predict_path, ready_path, replicas, launch, timeout_ms, max_in_flight)"
      + " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING " + COLUMNS;
  private static final String LIST = "SELECT " + COLUMNS + " FROM inference_servers WHERE profile_id = $1"
      + " ORDER BY created_at, id";
  private static final String GET = "SELECT " + COLUMNS + " FROM inference_servers WHERE id = $1 AND profile_id = $2";
  private static final String FIND = "SELECT " + COLUMNS + " FROM inference_servers WHERE id = $1";
  private static final String OWNERS = "SELECT id, profile_id FROM inference_servers WHERE id = ANY($1)";
  private static final String LOCK_ROW = "SELECT " + COLUMNS + " FROM inference_servers WHERE id = $1"
      + " AND profile_id = $2 FOR UPDATE";
  private static final String UPDATE = "UPDATE inference_servers SET name = $3, protocol = $4, model = $5,"
      + " predict_path = $6, ready_path = $7, replicas = $8, launch = $9, timeout_ms = $10, max_in_flight = $11,"
      + " revision = revision + 1, updated_at = now() WHERE id = $1 AND profile_id = $2 RETURNING " + COLUMNS;
  private static final String SET_STATE = "UPDATE inference_servers SET desired_state = $3, revision = revision + 1,"
      + " updated_at = now() WHERE id = $1 AND profile_id = $2 RETURNING " + COLUMNS;
  private static final String USERS = "SELECT id, name FROM deployments WHERE inference_server_id = $1"
      + " ORDER BY created_at LIMIT 20";
  /**
   * The profile's flow versions that may run and have an {@code inference} node calling server $1 (its id in lower
   * case): each flow's current version and every version a deployment pins. Node ids are compared case-insensitively,
   * as the node type parses them.
   */
  private static final String FLOW_USERS = "SELECT f.id, f.name, v.version, v.version = f.latest_version AS current,"
      + " (SELECT array_agg(d.name ORDER BY d.created_at, d.id) FROM deployments d"
      + "   WHERE d.flow_id = f.id AND d.flow_version = v.version) AS pinned_by"
      + " FROM flows f JOIN flow_versions v ON v.flow_id = f.id"
      + " WHERE f.profile_id = $2"
      + " AND (v.version = f.latest_version"
      + "   OR EXISTS (SELECT 1 FROM deployments d WHERE d.flow_id = f.id AND d.flow_version = v.version))"
      + " AND EXISTS (SELECT 1 FROM jsonb_array_elements(CASE jsonb_typeof(v.definition -> 'nodes')"
      + "     WHEN 'array' THEN v.definition -> 'nodes' ELSE '[]'::jsonb END) AS n(node)"
      + "   WHERE n.node ->> 'type' = 'inference' AND lower(n.node -> 'config' ->> 'inference_server_id') = $1)"
      + " ORDER BY f.created_at, f.id, v.version DESC LIMIT 50";
  private static final String DELETE = "DELETE FROM inference_servers WHERE id = $1 AND profile_id = $2";

  private final Pool pool;

  public InferenceServerRepository(Pool pool) {
    this.pool = pool;
  }

  /** Stores {@code spec} (its id and profile set); the stored row. */
  public Future<InferenceServerSpec> create(InferenceServerSpec spec) {
    return pool.preparedQuery(INSERT).execute(Tuple.from(Arrays.asList(spec.id(), spec.profileId(), spec.name(),
            spec.protocol().wire(), spec.model(), spec.predictPath(), spec.readyPath(),
            spec.replicas() == null ? null : spec.replicas().toArray(new String[0]),
            spec.launch() == null ? null : spec.launch().toJson(), spec.timeoutMs(), spec.maxInFlight())))
        .map(rows -> first(rows));
  }

  /** The profile's servers, oldest first. */
  public Future<List<InferenceServerSpec>> list(UUID profileId) {
    return pool.preparedQuery(LIST).execute(Tuple.of(profileId)).map(rows -> {
      List<InferenceServerSpec> out = new ArrayList<>(rows.size());
      for (Row row : rows) {
        out.add(spec(row));
      }
      return out;
    });
  }

  /** The profile's server {@code id}, or null. */
  public Future<InferenceServerSpec> get(UUID profileId, UUID id) {
    return pool.preparedQuery(GET).execute(Tuple.of(id, profileId)).map(InferenceServerRepository::first);
  }

  /** The server {@code id} whoever owns it, or null (the runtime checks the owner against the deployment's). */
  public Future<InferenceServerSpec> findById(UUID id) {
    return pool.preparedQuery(FIND).execute(Tuple.of(id)).map(InferenceServerRepository::first);
  }

  /** The owning profile of each of {@code ids} that exists (for checking the {@code inference} nodes of a flow). */
  public Future<Map<UUID, UUID>> owners(Collection<UUID> ids) {
    if (ids.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    return pool.preparedQuery(OWNERS).execute(Tuple.tuple().addArrayOfUUID(ids.toArray(new UUID[0]))).map(rows -> {
      Map<UUID, UUID> owners = new HashMap<>();
      for (Row row : rows) {
        owners.put(row.getUUID("id"), row.getUUID("profile_id"));
      }
      return owners;
    });
  }

  /**
   * Changes the profile's server {@code id} to {@code change(current)} (which throws 400 for a bad change) under a
   * row lock, so that concurrent changes apply one after the other; bumps its revision. The stored row; 404
   * {@code not_found} when missing.
   */
  public Future<InferenceServerSpec> update(UUID profileId, UUID id,
      Function<InferenceServerSpec, InferenceServerSpec> change) {
    return pool.withTransaction(conn -> conn.preparedQuery(LOCK_ROW).execute(Tuple.of(id, profileId))
        .compose(rows -> {
          InferenceServerSpec current = first(rows);
          if (current == null) {
            return Future.failedFuture(notFound(id));
          }
          InferenceServerSpec next = change.apply(current);
          return conn.preparedQuery(UPDATE).execute(Tuple.from(Arrays.asList(id, profileId, next.name(),
              next.protocol().wire(), next.model(), next.predictPath(), next.readyPath(),
              next.replicas() == null ? null : next.replicas().toArray(new String[0]),
              next.launch() == null ? null : next.launch().toJson(), next.timeoutMs(), next.maxInFlight())));
        })
        .map(InferenceServerRepository::first));
  }

  /** Sets the state every node keeps the profile's server in (stop and start); the stored row, or 404. */
  public Future<InferenceServerSpec> setStopped(UUID profileId, UUID id, boolean stopped) {
    return pool.preparedQuery(SET_STATE).execute(Tuple.of(id, profileId, stopped ? "stopped" : "started"))
        .compose(rows -> {
          InferenceServerSpec spec = first(rows);
          return spec == null ? Future.failedFuture(notFound(id)) : Future.succeededFuture(spec);
        });
  }

  /**
   * Deletes the profile's server: 404 {@code not_found} when missing, 409 {@code conflict} naming the deployments
   * that forward to it and the flows whose runnable versions (current or pinned by a deployment) call it.
   */
  public Future<Void> delete(UUID profileId, UUID id) {
    return pool.withTransaction(conn -> conn.preparedQuery(LOCK_ROW).execute(Tuple.of(id, profileId))
        .compose(locked -> locked.size() == 0 ? Future.failedFuture(notFound(id))
            : conn.preparedQuery(USERS).execute(Tuple.of(id)))
        .compose(deployments -> conn.preparedQuery(FLOW_USERS).execute(Tuple.of(id.toString(), profileId))
            .compose(flows -> deployments.size() > 0 || flows.size() > 0
                ? Future.failedFuture(inUse(id, deployments, flows))
                : conn.preparedQuery(DELETE).execute(Tuple.of(id, profileId)).mapEmpty())));
  }

  /** 409 naming who uses the server, with one {@code details} entry per deployment and per flow. */
  private static GatewayException inUse(UUID id, RowSet<Row> deployments, RowSet<Row> flows) {
    JsonArray details = new JsonArray();
    List<String> parts = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (Row row : deployments) {
      names.add("'" + row.getString("name") + "' (" + row.getUUID("id") + ")");
      details.add(new JsonObject().put("deployment_id", row.getUUID("id").toString()).put("name",
          row.getString("name")));
    }
    if (!names.isEmpty()) {
      parts.add("deployment" + (names.size() > 1 ? "s " : " ") + String.join(", ", names) + " forward"
          + (names.size() > 1 ? "" : "s") + " to it");
    }
    Map<UUID, List<Row>> byFlow = new LinkedHashMap<>();
    for (Row row : flows) {
      byFlow.computeIfAbsent(row.getUUID("id"), k -> new ArrayList<>()).add(row);
    }
    for (Map.Entry<UUID, List<Row>> flow : byFlow.entrySet()) {
      List<String> versions = new ArrayList<>();
      JsonArray versionNumbers = new JsonArray();
      for (Row row : flow.getValue()) {
        String[] pinnedBy = row.getArrayOfStrings("pinned_by");
        List<String> why = new ArrayList<>();
        if (row.getBoolean("current")) {
          why.add("current");
        }
        if (pinnedBy != null && pinnedBy.length > 0) {
          why.add("deployed by '" + String.join("', '", pinnedBy) + "'");
        }
        versions.add(row.getInteger("version") + " (" + String.join(", ", why) + ")");
        versionNumbers.add(row.getInteger("version"));
      }
      String name = flow.getValue().get(0).getString("name");
      parts.add("flow '" + name + "' (" + flow.getKey() + ") calls it from an inference node in version"
          + (versions.size() > 1 ? "s " : " ") + String.join(" and ", versions));
      details.add(new JsonObject().put("flow_id", flow.getKey().toString()).put("name", name)
          .put("versions", versionNumbers));
    }
    return GatewayException.withDetails(ErrorCode.CONFLICT, "Inference server " + id + " is still in use: "
        + String.join("; ", parts) + ". Point them at another inference server first (PATCH the deployment's "
        + "inference_server_id; PUT the flow without the node, then redeploy the deployments that run it), or "
        + "delete them.", details);
  }

  static GatewayException notFound(UUID id) {
    return new GatewayException(ErrorCode.NOT_FOUND, "No inference server " + id + " exists in this profile; list "
        + "them with GET /api/v1/inference-servers.");
  }

  private static InferenceServerSpec first(RowSet<Row> rows) {
    var it = rows.iterator();
    return it.hasNext() ? spec(it.next()) : null;
  }

  private static InferenceServerSpec spec(Row row) {
    String[] replicas = row.getArrayOfStrings("replicas");
    JsonObject launch = row.getJsonObject("launch");
    OffsetDateTime created = row.getOffsetDateTime("created_at");
    return new InferenceServerSpec(row.getUUID("id"), row.getUUID("profile_id"), row.getString("name"),
        Protocol.fromWire(row.getString("protocol")), row.getString("model"), row.getString("predict_path"),
        row.getString("ready_path"), replicas == null ? null : Arrays.asList(replicas),
        launch == null ? null : InferenceServerSpec.Launch.fromJson(launch), row.getInteger("timeout_ms"),
        row.getInteger("max_in_flight"), "stopped".equals(row.getString("desired_state")), row.getLong("revision"),
        created == null ? null : created.toInstant());
  }
}
