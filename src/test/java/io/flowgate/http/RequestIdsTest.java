package io.flowgate.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Random (v4) and time-ordered (v7) ids are well-formed UUIDs; time-ordered ones sort by their time. */
class RequestIdsTest {
  private static final String V7 = "[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}";

  @Test
  void time_ordered_ids_are_version_7_with_the_time_in_their_first_48_bits() {
    long now = System.currentTimeMillis();
    for (long millis : new long[] {0, 1, now, 0xffff_ffff_ffffL}) {
      String id = RequestIds.timeOrdered(millis);
      assertThat(id).matches(V7);
      UUID uuid = UUID.fromString(id);
      assertThat(uuid.version()).isEqualTo(7);
      assertThat(uuid.variant()).isEqualTo(2);
      assertThat(uuid.getMostSignificantBits() >>> 16).isEqualTo(millis);
      assertThat(uuid.toString()).isEqualTo(id);
    }
    long embedded = UUID.fromString(RequestIds.timeOrdered()).getMostSignificantBits() >>> 16;
    assertThat(embedded).isBetween(now, System.currentTimeMillis());
  }

  @Test
  void ids_of_later_milliseconds_sort_after_earlier_ones_as_text_and_as_postgresql_compares_uuids() {
    List<String> ids = new ArrayList<>();
    long start = 1_795_000_000_000L;
    for (int i = 0; i < 10_000; i++) {
      ids.add(RequestIds.timeOrdered(start + i));
    }
    // PostgreSQL orders uuid values by their bytes, as the lowercase hex text sorts.
    assertThat(ids).isSorted();
  }

  @Test
  void ids_do_not_repeat_within_a_millisecond() {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 100_000; i++) {
      assertThat(seen.add(RequestIds.timeOrdered(42))).isTrue();
      assertThat(seen.add(RequestIds.random())).isTrue();
    }
    assertThat(UUID.fromString(RequestIds.random()).version()).isEqualTo(4);
  }
}
