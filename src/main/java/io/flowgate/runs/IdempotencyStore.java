package io.flowgate.runs;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.backends.LuaScript;
import io.vertx.core.Future;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Response;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * The {@code Idempotency-Key} records of triggers (DESIGN §1.5): for one profile, deployment and key, the fingerprint
 * of the first request's input and the run it started, kept in Redis for the TTL (24 h in production). A claim is one
 * Lua script, so concurrent duplicates of a key make exactly one run, and the same key with another body is refused
 * with 422 {@code idempotency_key_reused}. Redis key: {@code <prefix>idem:<profileId>:<deploymentId>:<sha256 of the
 * key>}, value {@code <fingerprint>|<runId>}. Thread-safe.
 */
public final class IdempotencyStore {
  /** The longest accepted {@code Idempotency-Key}, as in DESIGN §1.5. */
  static final int MAX_KEY_LENGTH = 255;

  static final String REUSED_DETAIL =
      "This Idempotency-Key was already used with a different request body; use a new key for a new request.";

  // KEYS[1] record; ARGV[1] fingerprint, ARGV[2] new run id, ARGV[3] TTL in ms.
  // Returns {'fresh', runId} when this call stored the record, else {'same' | 'reused', the stored runId}.
  // A value without a separator was not written by flowgate; it is replaced rather than blocking the key for a day.
  private static final LuaScript CLAIM = new LuaScript("""
      local value = ARGV[1] .. '|' .. ARGV[2]
      if redis.call('SET', KEYS[1], value, 'NX', 'PX', ARGV[3]) then return {'fresh', ARGV[2]} end
      local stored = redis.call('GET', KEYS[1])
      local sep = stored and string.find(stored, '|', 1, true)
      if not sep then
        redis.call('SET', KEYS[1], value, 'PX', ARGV[3])
        return {'fresh', ARGV[2]}
      end
      local run = string.sub(stored, sep + 1)
      if string.sub(stored, 1, sep - 1) == ARGV[1] then return {'same', run} end
      return {'reused', run}
      """);

  // KEYS[1] record; ARGV[1] run id. Deletes the record only while it still names that run.
  private static final LuaScript RELEASE = new LuaScript("""
      local stored = redis.call('GET', KEYS[1])
      if not stored then return 0 end
      local sep = string.find(stored, '|', 1, true)
      if sep and string.sub(stored, sep + 1) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
      return 0
      """);

  /** The outcome of {@link #claim}: {@code fresh} when this request must start {@code runId}, else it attaches. */
  public record Claim(boolean fresh, String runId) {}

  private final Redis redis;
  private final String keyPrefix;
  private final String ttlMillis;

  public IdempotencyStore(Redis redis, String keyPrefix, Duration ttl) {
    this.redis = Objects.requireNonNull(redis, "redis");
    this.keyPrefix = Objects.requireNonNull(keyPrefix, "keyPrefix");
    if (ttl == null || ttl.toMillis() <= 0) {
      throw new IllegalArgumentException("the idempotency TTL must be at least 1 ms, got " + ttl);
    }
    this.ttlMillis = Long.toString(ttl.toMillis());
  }

  /**
   * The header value checked: null when absent; 1 to 255 printable ASCII characters (0x21-0x7E) are returned as they
   * are, anything else fails with {@link ErrorCode#INVALID_REQUEST} (an empty header too).
   */
  public static String validate(String headerValue) {
    if (headerValue == null) {
      return null;
    }
    if (headerValue.isEmpty()) {
      throw new GatewayException(ErrorCode.INVALID_REQUEST, "The Idempotency-Key header is empty; send 1 to 255"
          + " printable ASCII characters (a UUID works well), or leave the header out.");
    }
    if (headerValue.length() > MAX_KEY_LENGTH) {
      throw new GatewayException(ErrorCode.INVALID_REQUEST, "The Idempotency-Key header is longer than 255"
          + " characters; use a shorter key, such as a UUID.");
    }
    for (int i = 0; i < headerValue.length(); i++) {
      char c = headerValue.charAt(i);
      if (c < 0x21 || c > 0x7E) {
        throw new GatewayException(ErrorCode.INVALID_REQUEST, "The Idempotency-Key header may contain only"
            + " printable ASCII characters, without spaces or control characters; use a key such as a UUID.");
      }
    }
    return headerValue;
  }

  /**
   * Canonical fingerprint of a request's input: SHA-256 hex of {@code inputData} encoded with object keys sorted
   * recursively, so key order and whitespace do not matter. Numbers count as Vert.x/Jackson encode them ({@code 1}
   * and {@code 1.0} differ). A null input hashes as {@code null}. Pure; cost linear in the input's size.
   */
  public static String fingerprint(JsonObject inputData) {
    return sha256Hex(Json.encode(sorted(inputData)));
  }

  /**
   * Atomically for (profileId, deploymentId, key): no record stores {fingerprint, newRunId} with the TTL and answers
   * {@code Claim(true, newRunId)}; a record with the same fingerprint answers {@code Claim(false, itsRunId)}; a record
   * with another fingerprint fails with 422 {@link ErrorCode#IDEMPOTENCY_KEY_REUSED}. Redis errors fail with 503
   * {@link ErrorCode#SERVICE_UNAVAILABLE}.
   */
  public Future<Claim> claim(UUID profileId, UUID deploymentId, String key, String fingerprint, String newRunId) {
    Objects.requireNonNull(fingerprint, "fingerprint");
    Objects.requireNonNull(newRunId, "newRunId");
    if (fingerprint.indexOf('|') >= 0) {
      throw new IllegalArgumentException("a fingerprint is hex and never contains '|'");
    }
    String redisKey = redisKey(profileId, deploymentId, key);
    return CLAIM.run(redis, List.of(redisKey), List.of(fingerprint, newRunId, ttlMillis))
        .recover(RunStore::unavailable)
        .compose(IdempotencyStore::toClaim);
  }

  /**
   * Deletes the record only if it still names {@code runId} (compare-and-delete): the accept failed, so a retry may
   * start over. Succeeds when there is nothing to delete; Redis errors fail with 503.
   */
  public Future<Void> release(UUID profileId, UUID deploymentId, String key, String runId) {
    Objects.requireNonNull(runId, "runId");
    return RELEASE.run(redis, List.of(redisKey(profileId, deploymentId, key)), List.of(runId))
        .<Void>mapEmpty()
        .recover(RunStore::unavailable);
  }

  /** The record's Redis key; the client's key is hashed, so its characters and length never reach the key space. */
  String redisKey(UUID profileId, UUID deploymentId, String key) {
    Objects.requireNonNull(profileId, "profileId");
    Objects.requireNonNull(deploymentId, "deploymentId");
    Objects.requireNonNull(key, "key");
    return keyPrefix + "idem:" + profileId + ":" + deploymentId + ":" + sha256Hex(key);
  }

  private static Future<Claim> toClaim(Response reply) {
    if (reply == null || reply.size() != 2) {
      return Future.failedFuture(new IllegalStateException("unexpected idempotency script reply: " + reply));
    }
    String outcome = reply.get(0).toString();
    String runId = reply.get(1).toString();
    return switch (outcome) {
      case "fresh" -> Future.succeededFuture(new Claim(true, runId));
      case "same" -> Future.succeededFuture(new Claim(false, runId));
      case "reused" -> Future.failedFuture(new GatewayException(ErrorCode.IDEMPOTENCY_KEY_REUSED, REUSED_DETAIL));
      default -> Future.failedFuture(new IllegalStateException("unexpected idempotency outcome: " + outcome));
    };
  }

  /** A copy with every object's keys in sorted order (JsonObject keeps insertion order when encoding). */
  private static Object sorted(Object value) {
    if (value instanceof JsonObject object) {
      List<String> names = new ArrayList<>(object.fieldNames());
      Collections.sort(names);
      JsonObject copy = new JsonObject();
      for (String name : names) {
        copy.put(name, sorted(object.getValue(name)));
      }
      return copy;
    }
    if (value instanceof JsonArray array) {
      JsonArray copy = new JsonArray(new ArrayList<>(array.size()));
      for (int i = 0; i < array.size(); i++) {
        copy.add(sorted(array.getValue(i)));
      }
      return copy;
    }
    return value;
  }

  private static String sha256Hex(String text) {
    try {
      MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(sha256.digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
