package io.flowgate.ratelimit;

import io.vertx.core.json.JsonObject;

/**
 * A deployment's {@code rate_limit}: a sustained {@code requestsPerSecond} and a {@code burst} that may arrive at once,
 * applied to each API key separately. As GCRA sees it: one request is "emitted" every {@code 1 / requestsPerSecond}
 * seconds and a key may run {@code burst} emissions ahead, so that in any span of {@code t} seconds at most
 * {@code burst + requestsPerSecond × t} requests are allowed. Immutable; any thread.
 */
public record RateLimit(double requestsPerSecond, int burst) {
  public RateLimit {
    if (!(requestsPerSecond > 0) || Double.isInfinite(requestsPerSecond) || burst < 1) {
      throw new IllegalArgumentException("a rate limit needs requests_per_second > 0 and burst >= 1");
    }
  }

  /** The limit stored on a deployment ({@code {"requests_per_second", "burst"}}), or null when it has none. */
  public static RateLimit of(JsonObject json) {
    if (json == null) {
      return null;
    }
    Object rps = json.getValue("requests_per_second");
    Object burst = json.getValue("burst");
    if (!(rps instanceof Number r) || !(r.doubleValue() > 0)) {
      return null;
    }
    int b = burst instanceof Number n ? n.intValue() : (int) Math.max(1, Math.ceil(r.doubleValue()));
    return new RateLimit(r.doubleValue(), Math.max(1, b));
  }

  /** The time between two emissions, in microseconds (at least 1). */
  public long emissionIntervalMicros() {
    return Math.max(1, Math.round(1_000_000 / requestsPerSecond));
  }

  /** Whole seconds for a full burst to be earned back from nothing: the window of {@code RateLimit-Policy}. */
  public long windowSeconds() {
    return Math.max(1, (long) Math.ceil(burst / requestsPerSecond));
  }
}
