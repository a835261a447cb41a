package io.flowgate.deployments;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * API keys in PostgreSQL (DESIGN §2.1): a new key is returned once in plain text and stored only as its SHA-256 hash
 * and masked form. Keys are scoped to one deployment or profile-wide. Thread-safe; every method returns a Future.
 */
public final class ApiKeyRepository {
  private final Pool pool;
  private final Supplier<String> keys;

  public ApiKeyRepository(Pool pool) {
    this(pool, ApiKeys::generate);
  }

  /** With another key source: tests use it to provoke a failure half way through a transaction. */
  ApiKeyRepository(Pool pool, Supplier<String> keys) {
    this.pool = pool;
    this.keys = keys;
  }

  /**
   * A new key for the profile's deployment {@code deploymentId}; fails with 404 {@code not_found} when the profile
   * has no such deployment.
   */
  public Future<NewApiKey> createForDeployment(UUID profileId, UUID deploymentId, String name) {
    String key = keys.get();
    return pool.preparedQuery(ApiKeySql.INSERT_FOR_DEPLOYMENT).execute(params(profileId, deploymentId, name, key))
        .compose(rows -> {
          ApiKey stored = Rows.firstOrNull(rows, Rows::apiKey);
          return stored == null ? Future.failedFuture(DeploymentRepository.notFound(deploymentId))
              : Future.succeededFuture(new NewApiKey(stored, key));
        });
  }

  /** A new key that may call every deployment of the profile. */
  public Future<NewApiKey> createProfileWide(UUID profileId, String name) {
    return insert(pool, profileId, null, name);
  }

  /** Inserts a new key through {@code client} (a pool or a connection inside a transaction). */
  Future<NewApiKey> insert(SqlClient client, UUID profileId, UUID deploymentId, String name) {
    String key = keys.get();
    return client.preparedQuery(ApiKeySql.INSERT).execute(params(profileId, deploymentId, name, key))
        .map(rows -> new NewApiKey(Rows.firstOrNull(rows, Rows::apiKey), key));
  }

  private static Tuple params(UUID profileId, UUID deploymentId, String name, String key) {
    return Tuple.of(UUID.randomUUID(), profileId, deploymentId, Buffer.buffer(ApiKeys.hash(key)), ApiKeys.mask(key),
        name);
  }

  /** The profile's keys, oldest first (hash included in the records; their wire form shows only the mask). */
  public Future<List<ApiKey>> list(UUID profileId) {
    return pool.preparedQuery(ApiKeySql.LIST).execute(Tuple.of(profileId)).map(rows -> Rows.all(rows, Rows::apiKey));
  }

  /** The profile's keys scoped to {@code deploymentId}, oldest first. */
  public Future<List<ApiKey>> listForDeployment(UUID profileId, UUID deploymentId) {
    return pool.preparedQuery(ApiKeySql.LIST_FOR_DEPLOYMENT).execute(Tuple.of(profileId, deploymentId))
        .map(rows -> Rows.all(rows, Rows::apiKey));
  }

  /** The profile's key {@code id}, or null. */
  public Future<ApiKey> get(UUID profileId, UUID id) {
    return pool.preparedQuery(ApiKeySql.GET).execute(Tuple.of(id, profileId))
        .map(rows -> Rows.firstOrNull(rows, Rows::apiKey));
  }

  /** Marks the key inactive (calls answer 401 {@code api_key_inactive}); 404 {@code not_found} when missing. */
  public Future<ApiKey> deactivate(UUID profileId, UUID id) {
    return setActive(profileId, id, false);
  }

  /** Marks the key active again; 404 {@code not_found} when missing. */
  public Future<ApiKey> activate(UUID profileId, UUID id) {
    return setActive(profileId, id, true);
  }

  private Future<ApiKey> setActive(UUID profileId, UUID id, boolean active) {
    return pool.preparedQuery(ApiKeySql.SET_ACTIVE).execute(Tuple.of(id, profileId, active))
        .compose(rows -> {
          ApiKey key = Rows.firstOrNull(rows, Rows::apiKey);
          return key == null ? Future.failedFuture(notFound(id)) : Future.succeededFuture(key);
        });
  }

  /** Deletes the key for good; 404 {@code not_found} when missing. */
  public Future<Void> delete(UUID profileId, UUID id) {
    return pool.preparedQuery(ApiKeySql.DELETE).execute(Tuple.of(id, profileId))
        .compose(rows -> rows.rowCount() == 0 ? Future.failedFuture(notFound(id)) : Future.succeededFuture());
  }

  /**
   * The key whose SHA-256 hash is {@code hash}, or null. No profile filter: the hash is the credential. Used by the
   * hot-path key cache.
   */
  public Future<ApiKey> findByHash(byte[] hash) {
    return pool.preparedQuery(ApiKeySql.FIND_BY_HASH).execute(Tuple.of(Buffer.buffer(hash)))
        .map(rows -> Rows.firstOrNull(rows, Rows::apiKey));
  }

  static GatewayException notFound(UUID id) {
    return new GatewayException(ErrorCode.NOT_FOUND,
        "No API key " + id + " exists in this profile; list your keys with GET /api/v1/api-keys.");
  }
}
