package io.flowgate.trigger;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The fast lane's {@code duration_seconds}: nine decimals at most, never an exponent, the same value as the nanos. */
class FastLaneSecondsTest {

  private static String seconds(long nanos) {
    return new String(FastLane.seconds(nanos), StandardCharsets.US_ASCII);
  }

  @Test
  void durations_read_as_plain_decimal_seconds() {
    assertThat(seconds(4_056_904)).isEqualTo("0.004056904");
    assertThat(seconds(1_500_000_000L)).isEqualTo("1.5");
    assertThat(seconds(0)).isEqualTo("0.0");
    assertThat(seconds(-5)).isEqualTo("0.0");
    assertThat(seconds(100)).isEqualTo("0.0000001");
    assertThat(seconds(61_000_000_001L)).isEqualTo("61.000000001");
  }

  @Test
  void every_value_parses_back_to_its_nanoseconds() {
    SplittableRandom random = new SplittableRandom(7);
    for (int i = 0; i < 10_000; i++) {
      long nanos = random.nextLong(0, 120_000_000_000L);
      String text = seconds(nanos);
      assertThat(text).doesNotContain("E").matches("\\d+\\.\\d{1,9}");
      assertThat(new java.math.BigDecimal(text).movePointRight(9).longValueExact()).as(text).isEqualTo(nanos);
    }
  }
}
