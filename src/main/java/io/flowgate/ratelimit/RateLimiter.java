package io.flowgate.ratelimit;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.backends.LuaScript;
import io.flowgate.metrics.GatewayMetrics;
import io.vertx.core.Future;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Per-key rate limits shared by every node: GCRA (the generic cell rate algorithm, as in redis-cell and Stripe's
 * limiter) in one Lua script, so a decision is one Redis round trip and atomic across nodes. The script reads the
 * time from Redis ({@code TIME}), never from a node, so nodes with skewed clocks still share one budget. The state is
 * one key per deployment and API key holding the "theoretical arrival time" in microseconds, expiring once the burst
 * is fully earned back. When Redis cannot answer within {@code redis.command_timeout_ms} the request is refused with
 * 503 {@code service_unavailable} (fail closed: an outage must not lift the limits). Thread-safe; call from an event
 * loop (the Redis client is the per-loop pipelined one).
 */
public final class RateLimiter {
  // KEYS[1]: the key's state. ARGV[1]: emission interval (µs), ARGV[2]: burst.
  // Returns {allowed (1|0), remaining, retry after (µs), reset (µs)}.
  private static final LuaScript GCRA = new LuaScript("""
      redis.replicate_commands()
      local interval = tonumber(ARGV[1])
      local tolerance = interval * tonumber(ARGV[2])
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
      local tat = tonumber(redis.call('GET', KEYS[1]))
      if tat == nil or tat < now then
        tat = now
      end
      local next_tat = tat + interval
      if next_tat - now > tolerance then
        return {0, 0, next_tat - tolerance - now, tat - now}
      end
      redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', math.ceil((next_tat - now) / 1000) + 1000)
      return {1, math.floor((tolerance - (next_tat - now)) / interval), 0, next_tat - now}
      """);

  private final Redis redis;
  private final String prefix;
  private final long timeoutMs;
  private final GatewayMetrics metrics;

  public RateLimiter(Redis redis, String keyPrefix, Duration timeout, GatewayMetrics metrics) {
    this.redis = redis;
    this.prefix = keyPrefix + "rl:";
    this.timeoutMs = Math.max(1, timeout.toMillis());
    this.metrics = metrics;
  }

  /**
   * Takes one request from the budget of {@code keyId} on {@code deploymentId} under {@code limit}. Completes with
   * the decision (allowed or not); fails with 503 {@code service_unavailable} when Redis does not answer.
   */
  public Future<RateDecision> acquire(UUID deploymentId, UUID keyId, RateLimit limit) {
    String key = prefix + deploymentId + ':' + keyId;
    return GCRA.run(redis, List.of(key), List.of(Long.toString(limit.emissionIntervalMicros()),
            Integer.toString(limit.burst())))
        .timeout(timeoutMs, TimeUnit.MILLISECONDS)
        .transform(ar -> {
          if (ar.failed()) {
            metrics.rateLimitDecision("unavailable");
            return Future.failedFuture(GatewayException.retryAfter(ErrorCode.SERVICE_UNAVAILABLE,
                "flowgate cannot check this API key's rate limit right now (its store, Redis, is unreachable); "
                    + "retry in a second.", 1));
          }
          RateDecision decision = decision(ar.result(), limit);
          metrics.rateLimitDecision(decision.allowed() ? "allowed" : "limited");
          return Future.succeededFuture(decision);
        });
  }

  private static RateDecision decision(Response reply, RateLimit limit) {
    return new RateDecision(reply.get(0).toLong() == 1, limit, Math.max(0, reply.get(1).toLong()),
        Math.max(0, reply.get(2).toLong()), Math.max(0, reply.get(3).toLong()));
  }
}
