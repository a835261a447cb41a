package io.flowgate.trigger;

import io.flowgate.ratelimit.RateDecision;
import io.flowgate.ratelimit.RateLimit;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;

/**
 * The rate-limit fields of draft-ietf-httpapi-ratelimit-headers-06 on every answer of a rate-limited deployment:
 * {@code RateLimit-Limit} (the burst: requests a key may make at once), {@code RateLimit-Remaining} (how many it may
 * make at once now), {@code RateLimit-Reset} (seconds until the whole burst is available again) and
 * {@code RateLimit-Policy} ({@code <burst>;w=<seconds to earn the burst back>}). A refused request also gets
 * {@code Retry-After} (seconds until one more request is allowed), from the problem. Event-loop only.
 */
final class RateLimitHeaders {
  static final CharSequence LIMIT = HttpHeaders.createOptimized("RateLimit-Limit");
  static final CharSequence REMAINING = HttpHeaders.createOptimized("RateLimit-Remaining");
  static final CharSequence RESET = HttpHeaders.createOptimized("RateLimit-Reset");
  static final CharSequence POLICY = HttpHeaders.createOptimized("RateLimit-Policy");

  private RateLimitHeaders() {
  }

  static void put(HttpServerResponse response, RateDecision decision) {
    RateLimit limit = decision.limit();
    MultiMap headers = response.headers();
    headers.set(LIMIT, Integer.toString(limit.burst()));
    headers.set(REMAINING, Long.toString(decision.remaining()));
    headers.set(RESET, Long.toString(decision.resetSeconds()));
    headers.set(POLICY, limit.burst() + ";w=" + limit.windowSeconds());
  }

  /** The limit in words, for messages: "10 requests per second, bursts of 20". */
  static String describe(RateLimit limit) {
    double rps = limit.requestsPerSecond();
    String rate = rps == Math.rint(rps) ? Long.toString((long) rps) : Double.toString(rps);
    return rate + " request" + (rps == 1 ? "" : "s") + " per second, bursts of " + limit.burst();
  }
}
