package io.flowgate.deployments;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * Profiles and their management tokens in PostgreSQL. A token ({@code mt-…}) is returned once at creation and stored
 * only as its SHA-256 hash. Thread-safe; every method returns a Future completed on the pool's context.
 */
public final class ProfileRepository {
  /** Prefix of management tokens, so they are told apart from API keys ({@code sk-}) at a glance. */
  public static final String TOKEN_PREFIX = "mt-";

  private final Pool pool;
  private final Supplier<String> tokens;

  public ProfileRepository(Pool pool) {
    this(pool, () -> ApiKeys.generate(TOKEN_PREFIX));
  }

  ProfileRepository(Pool pool, Supplier<String> tokens) {
    this.pool = pool;
    this.tokens = tokens;
  }

  /** Creates a profile named {@code name}; fails with 409 {@code conflict} when the name is taken. */
  public Future<NewProfile> create(String name) {
    String token = tokens.get();
    Tuple params = Tuple.of(UUID.randomUUID(), name, Buffer.buffer(ApiKeys.hash(token)));
    return pool.preparedQuery(ProfileSql.INSERT).execute(params)
        .map(rows -> new NewProfile(Rows.firstOrNull(rows, Rows::profile), token))
        .recover(failure -> Future.failedFuture(Rows.isSqlState(failure, Rows.UNIQUE_VIOLATION)
            ? new GatewayException(ErrorCode.CONFLICT,
                "A profile named '" + name + "' already exists; pick another name.")
            : failure));
  }

  /** The id of the profile whose management token hashes to {@code tokenHash}, or null. */
  public Future<UUID> findByTokenHash(byte[] tokenHash) {
    return pool.preparedQuery(ProfileSql.FIND_BY_TOKEN_HASH).execute(Tuple.of(Buffer.buffer(tokenHash)))
        .map(rows -> Rows.firstOrNull(rows, row -> row.getUUID("id")));
  }

  /** The profile {@code id}, or null. */
  public Future<Profile> findById(UUID id) {
    return pool.preparedQuery(ProfileSql.FIND_BY_ID).execute(Tuple.of(id))
        .map(rows -> Rows.firstOrNull(rows, Rows::profile));
  }
}
