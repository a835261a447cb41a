package io.flowgate.runs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Timestamps writes and reads exactly what Instant#toString and Instant#parse do, over the whole range. */
class TimestampsTest {
  private static final long MIN = Instant.parse("-1000-01-01T00:00:00Z").getEpochSecond();
  private static final long MAX = Instant.parse("+12000-01-01T00:00:00Z").getEpochSecond();

  @Test
  void formats_as_instant_to_string_and_reads_it_back() {
    SplittableRandom random = new SplittableRandom(42);
    for (int i = 0; i < 200_000; i++) {
      long seconds = random.nextLong(MIN, MAX);
      // Whole seconds, milli-, micro- and nanosecond fractions, as often as each other.
      int nano = switch (i % 4) {
        case 0 -> 0;
        case 1 -> random.nextInt(1000) * 1_000_000;
        case 2 -> random.nextInt(1_000_000) * 1000;
        default -> random.nextInt(1_000_000_000);
      };
      Instant instant = Instant.ofEpochSecond(seconds, nano);
      String text = Timestamps.format(instant);
      assertThat(text).isEqualTo(instant.toString());
      assertThat(Timestamps.parse(text)).isEqualTo(instant);
    }
  }

  @Test
  void the_edges_of_the_four_digit_years_and_of_days() {
    for (String s : new String[] {"0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z", "1970-01-01T00:00:00Z",
        "1969-12-31T23:59:59.999Z", "2024-02-29T12:00:00.000001Z", "2026-11-22T23:57:01.100Z", "+10000-01-01T00:00:00Z",
        "-0001-12-31T23:59:59Z"}) {
      Instant instant = Instant.parse(s);
      assertThat(Timestamps.format(instant)).isEqualTo(instant.toString());
      assertThat(Timestamps.parse(instant.toString())).isEqualTo(instant);
    }
  }

  @Test
  void reads_any_fraction_width_as_instant_parse_does() {
    String[] fractions = {"", ".1", ".12", ".123", ".1234", ".12345", ".123456", ".1234567", ".12345678",
        ".123456789", ".000000001", ".9", "."};
    for (String f : fractions) {
      String text = "2026-11-22T23:57:01" + f + "Z";
      assertThat(Timestamps.parse(text)).as(text).isEqualTo(Instant.parse(text));
    }
    // What the JDK reads besides: the end of a day as 24:00, an offset.
    for (String other : new String[] {"2026-11-22T24:00:00Z", "2026-11-22T23:57:01+01:00"}) {
      assertThat(Timestamps.parse(other)).as(other).isEqualTo(Instant.parse(other));
    }
  }

  @Test
  void text_that_is_not_an_instant_fails_as_the_jdk_fails() {
    for (String bad : new String[] {"", "yesterday", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
        "2026-11-22T24:00:01Z", "2026-11-22T23:60:00Z", "2026-11-22T23:57:01.1234567890Z",
        "2026-11-22 23:57:01Z", "2026-11-22T23:57:01", "2026-1a-22T23:57:01Z"}) {
      assertThatThrownBy(() -> Timestamps.parse(bad)).as(bad).isInstanceOf(DateTimeParseException.class);
    }
  }
}
