package io.flowgate.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LogThrottleTest {
  private final AtomicLong now = new AtomicLong(1_000);
  private final LogThrottle throttle = new LogThrottle(1, TimeUnit.SECONDS, now::get);

  @Test
  void lets_one_line_per_key_per_interval_through_and_counts_the_rest() {
    assertThat(throttle.admit("inference_error")).isZero();
    for (int i = 0; i < 500; i++) {
      assertThat(throttle.admit("inference_error")).isEqualTo(-1);
    }
    // Another key has its own budget.
    assertThat(throttle.admit("inference_timeout")).isZero();
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(999));
    assertThat(throttle.admit("inference_error")).isEqualTo(-1);
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(1));
    assertThat(throttle.admit("inference_error")).isEqualTo(501);
    now.addAndGet(TimeUnit.SECONDS.toNanos(5));
    assertThat(throttle.admit("inference_error")).isZero();
  }

  @Test
  void says_how_many_lines_were_left_out() {
    assertThat(LogThrottle.leftOut(0)).isEmpty();
    assertThat(LogThrottle.leftOut(-1)).isEmpty();
    assertThat(LogThrottle.leftOut(42)).isEqualTo(" (42 similar lines left out)");
  }
}
