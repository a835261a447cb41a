package io.flowgate.deployments;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
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
    return createForDeployment(profileId, deploymentId, name, null);
  }

  /** As {@link #createForDeployment(UUID, UUID, String)}, expiring at {@code expiresAt} (null: never). */
  public Future<NewApiKey> createForDeployment(UUID profileId, UUID deploymentId, String name, Instant expiresAt) {
    String key = keys.get();
    return pool.preparedQuery(ApiKeySql.INSERT_FOR_DEPLOYMENT)
        .execute(params(profileId, deploymentId, name, key, expiresAt))
        .compose(rows -> {
          ApiKey stored = Rows.firstOrNull(rows, Rows::apiKey);
          return stored == null ? Future.failedFuture(DeploymentRepository.notFound(deploymentId))
              : Future.succeededFuture(new NewApiKey(stored, key));
        });
  }

  /** A new key that may call every deployment of the profile. */
  public Future<NewApiKey> createProfileWide(UUID profileId, String name) {
    return createProfileWide(profileId, name, null);
  }

  /** As {@link #createProfileWide(UUID, String)}, expiring at {@code expiresAt} (null: never). */
  public Future<NewApiKey> createProfileWide(UUID profileId, String name, Instant expiresAt) {
    return insert(pool, profileId, null, name, expiresAt);
  }

  /** Inserts a new key through {@code client} (a pool or a connection inside a transaction). */
  Future<NewApiKey> insert(SqlClient client, UUID profileId, UUID deploymentId, String name) {
    return insert(client, profileId, deploymentId, name, null);
  }

  private Future<NewApiKey> insert(SqlClient client, UUID profileId, UUID deploymentId, String name,
      Instant expiresAt) {
    String key = keys.get();
    return client.preparedQuery(ApiKeySql.INSERT).execute(params(profileId, deploymentId, name, key, expiresAt))
        .map(rows -> new NewApiKey(Rows.firstOrNull(rows, Rows::apiKey), key));
  }

  private static Tuple params(UUID profileId, UUID deploymentId, String name, String key, Instant expiresAt) {
    return Tuple.of(UUID.randomUUID(), profileId, deploymentId, Buffer.buffer(ApiKeys.hash(key)), ApiKeys.mask(key),
        name, expiresAt == null ? null : expiresAt.atOffset(ZoneOffset.UTC));
  }

  /**
   * Rotates the profile's key {@code id} (a "roll", as Stripe calls it): a new key with the same scope and name
   * (expiring at {@code newExpiresAt}, or never) is returned once in plain text, and the old key stays valid for
   * {@code overlap} more (or until its own expiry, if sooner), then is refused with {@code api_key_inactive}. 404
   * {@code not_found} when the profile has no such key (deleted ones included); 409 {@code conflict} when it was
   * rotated already.
   */
  public Future<RotatedApiKey> rotate(UUID profileId, UUID id, Duration overlap, Instant newExpiresAt) {
    return pool.withTransaction(conn -> conn.preparedQuery(ApiKeySql.GET_FOR_UPDATE).execute(Tuple.of(id, profileId))
        .compose(rows -> {
          ApiKey old = Rows.firstOrNull(rows, Rows::apiKey);
          if (old == null) {
            return Future.failedFuture(notFound(id));
          }
          if (old.replacedBy() != null) {
            return Future.failedFuture(new GatewayException(ErrorCode.CONFLICT, "API key " + id + " was rotated "
                + "already; its replacement is " + old.replacedBy() + ". Rotate that key instead."));
          }
          return insert(conn, profileId, old.deploymentId(), old.name(), newExpiresAt)
              .compose(fresh -> conn.preparedQuery(ApiKeySql.RETIRE)
                  .execute(Tuple.of(id, profileId, fresh.key().id(), (double) overlap.toSeconds()))
                  .map(retired -> new RotatedApiKey(fresh, Rows.firstOrNull(retired, Rows::apiKey))));
        }));
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

  /**
   * Records when keys were last used: {@code lastUsed} maps key ids to a time (a minute). One statement; a time is
   * never moved backwards. Completes with the number of keys updated.
   */
  public Future<Integer> touch(Map<UUID, Instant> lastUsed) {
    if (lastUsed.isEmpty()) {
      return Future.succeededFuture(0);
    }
    UUID[] ids = new UUID[lastUsed.size()];
    OffsetDateTime[] times = new OffsetDateTime[lastUsed.size()];
    int i = 0;
    for (Map.Entry<UUID, Instant> e : lastUsed.entrySet()) {
      ids[i] = e.getKey();
      times[i] = e.getValue().atOffset(ZoneOffset.UTC);
      i++;
    }
    return pool.preparedQuery(ApiKeySql.TOUCH).execute(Tuple.tuple().addArrayOfUUID(ids)
        .addArrayOfOffsetDateTime(times)).map(rows -> rows.rowCount());
  }

  static GatewayException notFound(UUID id) {
    return new GatewayException(ErrorCode.NOT_FOUND,
        "No API key " + id + " exists in this profile; list your keys with GET /api/v1/api-keys.");
  }
}
