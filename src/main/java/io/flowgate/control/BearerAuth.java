package io.flowgate.control;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.config.GatewayConfig;
import io.flowgate.deployments.ApiKeys;
import io.flowgate.deployments.Profile;
import io.flowgate.deployments.ProfileRepository;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Authenticates control-plane calls by {@code Authorization: Bearer <token>} (DESIGN §2): the admin token
 * ({@code FLOWGATE_ADMIN_TOKEN}, compared in constant time) acts for the {@code default} profile; a profile's
 * management token ({@code mt-…}) is looked up by its SHA-256 hash and remembered for a few seconds. Anything else is
 * 401 {@code unauthorized}. Event-loop only (the cache is safe to share between event loops).
 */
final class BearerAuth implements Handler<RoutingContext> {
  /** Short, so that a token's profile being deleted takes effect quickly without any invalidation. */
  static final long TOKEN_TTL_NANOS = 5_000_000_000L;
  private static final int MAX_CACHED = 10_000;
  private static final String BEARER = "Bearer ";

  private final byte[] adminHash;
  private final ProfileRepository profiles;
  private final Map<String, Cached> cache = new ConcurrentHashMap<>();

  private record Cached(UUID profileId, long expiresAtNanos) {}

  BearerAuth(GatewayConfig.Admin admin, ProfileRepository profiles) {
    this.adminHash = admin != null && admin.enabled() ? sha256(admin.token()) : null;
    this.profiles = profiles;
  }

  @Override
  public void handle(RoutingContext rc) {
    String header = rc.request().getHeader(HttpHeaders.AUTHORIZATION);
    if (header == null || header.isBlank()) {
      rc.fail(new GatewayException(ErrorCode.UNAUTHORIZED, "Send the header 'Authorization: Bearer <token>' with "
          + "the admin token (FLOWGATE_ADMIN_TOKEN) or a profile's mt-… management token."));
      return;
    }
    if (!header.regionMatches(true, 0, BEARER, 0, BEARER.length()) || header.substring(BEARER.length()).isBlank()) {
      rc.fail(new GatewayException(ErrorCode.UNAUTHORIZED,
          "The Authorization header must read 'Bearer <token>'; other schemes are not accepted."));
      return;
    }
    String token = header.substring(BEARER.length()).trim();
    if (adminHash != null && MessageDigest.isEqual(sha256(token), adminHash)) {
      new Caller(Profile.DEFAULT_ID, true).attach(rc);
      rc.next();
      return;
    }
    if (!ApiKeys.wellFormed(token, ProfileRepository.TOKEN_PREFIX)) {
      rc.fail(invalid());
      return;
    }
    profileOf(token)
        .onSuccess(profileId -> {
          if (profileId == null) {
            rc.fail(invalid());
          } else {
            new Caller(profileId, false).attach(rc);
            rc.next();
          }
        })
        .onFailure(rc::fail);
  }

  private GatewayException invalid() {
    if (adminHash == null) {
      return new GatewayException(ErrorCode.UNAUTHORIZED, "The bearer token is not a valid profile token, and no "
          + "admin token is configured: the operator must set FLOWGATE_ADMIN_TOKEN (16 characters or more) and "
          + "restart to use the admin token.");
    }
    return new GatewayException(ErrorCode.UNAUTHORIZED,
        "The bearer token is not valid; use the admin token or a profile's mt-… token.");
  }

  private Future<UUID> profileOf(String token) {
    byte[] hash = ApiKeys.hash(token);
    String cacheKey = HexFormat.of().formatHex(hash);
    long now = System.nanoTime();
    Cached cached = cache.get(cacheKey);
    if (cached != null && now - cached.expiresAtNanos() < 0) {
      return Future.succeededFuture(cached.profileId());
    }
    return profiles.findByTokenHash(hash).onSuccess(profileId -> {
      if (profileId == null) {
        cache.remove(cacheKey);
        return;
      }
      if (cache.size() >= MAX_CACHED) {
        cache.clear();
      }
      cache.put(cacheKey, new Cached(profileId, System.nanoTime() + TOKEN_TTL_NANOS));
    });
  }

  private static byte[] sha256(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
