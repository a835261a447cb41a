package io.flowgate.inference;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.vertx.core.Future;
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
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Inference servers in PostgreSQL, scoped by profile (another profile's server reads as missing). Thread-safe; every
 * method returns a Future.
 */
public final class InferenceServerRepository {
  private static final String COLUMNS = "id, profile_id, name, protocol, model, predict_path, ready_path, replicas,"
      + " launch, timeout_ms, max_in_flight, created_at";
  private static final String INSERT = "INSERT INTO inference_servers (id, profile_id, name, protocol, model,"
      + " predict_path, ready_path, replicas, launch, timeout_ms, max_in_flight)"
      + " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING " + COLUMNS;
  private static final String LIST = "SELECT " + COLUMNS + " FROM inference_servers WHERE profile_id = $1"
      + " ORDER BY created_at, id";
  private static final String GET = "SELECT " + COLUMNS + " FROM inference_servers WHERE id = $1 AND profile_id = $2";
  private static final String FIND = "SELECT " + COLUMNS + " FROM inference_servers WHERE id = $1";
  private static final String OWNERS = "SELECT id, profile_id FROM inference_servers WHERE id = ANY($1)";
  private static final String USERS = "SELECT id, name FROM deployments WHERE inference_server_id = $1"
      + " ORDER BY created_at LIMIT 20";
  private static final String LOCK = "SELECT id FROM inference_servers WHERE id = $1 AND profile_id = $2 FOR UPDATE";
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
   * Deletes the profile's server: 404 {@code not_found} when missing, 409 {@code conflict} naming the deployments
   * that still forward to it.
   */
  public Future<Void> delete(UUID profileId, UUID id) {
    return pool.withTransaction(conn -> conn.preparedQuery(LOCK).execute(Tuple.of(id, profileId))
        .compose(locked -> locked.size() == 0 ? Future.failedFuture(notFound(id))
            : conn.preparedQuery(USERS).execute(Tuple.of(id)))
        .compose(users -> {
          if (users.size() > 0) {
            List<String> names = new ArrayList<>();
            for (Row row : users) {
              names.add("'" + row.getString("name") + "' (" + row.getUUID("id") + ")");
            }
            return Future.failedFuture(new GatewayException(ErrorCode.CONFLICT, "Inference server " + id
                + " is used by deployment" + (names.size() > 1 ? "s " : " ") + String.join(", ", names)
                + "; delete those deployments or point them at another server first."));
          }
          return conn.preparedQuery(DELETE).execute(Tuple.of(id, profileId)).mapEmpty();
        }));
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
        row.getInteger("max_in_flight"), created == null ? null : created.toInstant());
  }
}
