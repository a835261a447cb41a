package io.flowgate.ratelimit;

/**
 * The answer of the rate limiter for one request: whether it is allowed, the key's {@code limit} (the burst), how
 * many more requests it could make at once now ({@code remaining}), how long until the next request would be allowed
 * ({@code retryAfterMicros}, 0 when allowed) and until the whole burst is available again ({@code resetMicros}).
 * Immutable; any thread.
 */
public record RateDecision(boolean allowed, RateLimit limit, long remaining, long retryAfterMicros, long resetMicros) {

  /** {@code Retry-After} for a refused request: whole seconds, rounded up, at least 1. */
  public long retryAfterSeconds() {
    return Math.max(1, ceilSeconds(retryAfterMicros));
  }

  /** {@code RateLimit-Reset}: whole seconds, rounded up, until the full burst is available again. */
  public long resetSeconds() {
    return ceilSeconds(resetMicros);
  }

  private static long ceilSeconds(long micros) {
    return micros <= 0 ? 0 : (micros + 999_999) / 1_000_000;
  }
}
