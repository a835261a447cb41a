package io.flowgate.webhooks;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {
  private final RetryPolicy policy = new RetryPolicy(List.of(Duration.ofSeconds(5), Duration.ofMinutes(5),
      Duration.ofHours(2)), 0.2, Duration.ofHours(1));

  @Test
  void each_failure_waits_its_step_of_the_schedule_within_the_jitter() {
    Random random = new Random(1);
    for (int i = 0; i < 500; i++) {
      assertThat(policy.nextDelay(1, null, random).toMillis()).isBetween(4_000L, 6_000L);
      assertThat(policy.nextDelay(2, null, random).toMillis()).isBetween(240_000L, 360_000L);
      assertThat(policy.nextDelay(3, null, random).toMillis()).isBetween(5_760_000L, 8_640_000L);
    }
    // Spread, not a constant: receivers coming back are not hit by every delivery at once.
    assertThat(java.util.stream.IntStream.range(0, 50).mapToObj(i -> policy.nextDelay(1, null, random)).distinct())
        .hasSizeGreaterThan(10);
  }

  @Test
  void the_schedule_used_up_means_the_delivery_has_failed() {
    assertThat(policy.maxAttempts()).isEqualTo(4);
    assertThat(policy.nextDelay(4, null, new Random())).isNull();
    assertThat(policy.nextDelay(4, Duration.ofSeconds(1), new Random())).isNull();
  }

  @Test
  void retry_after_replaces_the_step_up_to_the_cap() {
    assertThat(policy.nextDelay(1, Duration.ofSeconds(42), new Random())).isEqualTo(Duration.ofSeconds(42));
    assertThat(policy.nextDelay(1, Duration.ofDays(3), new Random())).isEqualTo(Duration.ofHours(1));
  }

  @Test
  void retry_after_is_read_as_seconds_or_an_http_date() {
    Instant now = Instant.parse("2026-01-01T00:00:00Z");
    assertThat(RetryPolicy.parseRetryAfter("120", now)).isEqualTo(Duration.ofSeconds(120));
    String date = DateTimeFormatter.RFC_1123_DATE_TIME.format(now.plusSeconds(30).atOffset(ZoneOffset.UTC));
    assertThat(RetryPolicy.parseRetryAfter(date, now)).isEqualTo(Duration.ofSeconds(30));
    assertThat(RetryPolicy.parseRetryAfter("Wed, 01 Jan 2025 00:00:00 GMT", now)).isEqualTo(Duration.ZERO);
    assertThat(RetryPolicy.parseRetryAfter("soon", now)).isNull();
    assertThat(RetryPolicy.parseRetryAfter("-5", now)).isNull();
    assertThat(RetryPolicy.parseRetryAfter(null, now)).isNull();
    assertThat(RetryPolicy.parseRetryAfter("99999999999999999999999", now)).isEqualTo(Duration.ofDays(365));
  }
}
