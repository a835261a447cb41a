package io.flowgate.webhooks;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * When a failed delivery is tried again: the n-th failure waits the n-th step of the schedule (Svix-like: seconds,
 * minutes, hours), spread by ± the jitter so that a receiver that comes back is not hit by every delivery at once;
 * a receiver's {@code Retry-After} (seconds or an HTTP date, RFC 9110) replaces the step, capped. After the last step
 * the delivery has failed. Immutable; any thread.
 *
 * @param schedule the wait after the 1st, 2nd, ... failure
 * @param jitter the spread as a fraction (0.2 = ±20 %)
 * @param maxRetryAfter the longest {@code Retry-After} honoured
 */
public record RetryPolicy(List<Duration> schedule, double jitter, Duration maxRetryAfter) {

  /** Attempts a delivery gets before it has failed: the first one and one per step. */
  public int maxAttempts() {
    return schedule.size() + 1;
  }

  /**
   * The wait before the next attempt after {@code failures} failed attempts (1 = the first failed), or null when the
   * schedule is used up. {@code retryAfter} is the receiver's wish, or null.
   */
  public Duration nextDelay(int failures, Duration retryAfter, RandomGenerator random) {
    if (failures < 1 || failures > schedule.size()) {
      return null;
    }
    if (retryAfter != null) {
      return retryAfter.compareTo(maxRetryAfter) > 0 ? maxRetryAfter : retryAfter;
    }
    long base = schedule.get(failures - 1).toMillis();
    double factor = 1 + jitter * (2 * random.nextDouble() - 1);
    return Duration.ofMillis(Math.max(0, Math.round(base * factor)));
  }

  /** A {@code Retry-After} header as a wait from {@code now}: delay-seconds or an HTTP date; null when malformed. */
  public static Duration parseRetryAfter(String header, Instant now) {
    if (header == null || header.isBlank()) {
      return null;
    }
    String value = header.trim();
    if (value.chars().allMatch(Character::isDigit)) {
      try {
        return Duration.ofSeconds(Long.parseLong(value));
      } catch (NumberFormatException e) {
        // More digits than a long holds: far in the future, capped by the caller.
        return Duration.ofDays(365);
      }
    }
    try {
      Instant at = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
      return at.isAfter(now) ? Duration.between(now, at) : Duration.ZERO;
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
