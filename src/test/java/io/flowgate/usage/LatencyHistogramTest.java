package io.flowgate.usage;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The fixed buckets of usage latencies: every duration lands in the bucket whose bounds hold it. */
class LatencyHistogramTest {

  @Test
  void every_duration_lands_in_the_bucket_whose_bounds_hold_it() {
    Random random = new Random(42);
    for (int n = 0; n < 20_000; n++) {
      double ms = Math.pow(10, random.nextDouble() * 9 - 2);
      int i = LatencyHistogram.bucket(ms);
      assertThat(ms).as("%s ms in bucket %d", ms, i).isGreaterThan(LatencyHistogram.lowerBound(i));
      if (i < LatencyHistogram.BUCKETS - 1) {
        assertThat(ms).as("%s ms in bucket %d", ms, i).isLessThanOrEqualTo(LatencyHistogram.upperBound(i));
      }
    }
    assertThat(LatencyHistogram.bucket(0)).isZero();
    assertThat(LatencyHistogram.bucket(0.1)).isZero();
    assertThat(LatencyHistogram.bucket(1e12)).isEqualTo(LatencyHistogram.BUCKETS - 1);
  }

  @Test
  void percentiles_are_within_a_bucket_of_the_exact_value() {
    long[] counts = new long[LatencyHistogram.BUCKETS];
    double[] values = new double[1000];
    for (int i = 0; i < values.length; i++) {
      values[i] = 1 + i * 0.5;
      counts[LatencyHistogram.bucket(values[i])]++;
    }
    // Exact p50 = 250.5 ms, p99 = 495.5 ms; a bucket is at most 19% wide.
    assertThat(LatencyHistogram.percentile(counts, 0.50)).isBetween(250.5 / 1.19, 250.5 * 1.19);
    assertThat(LatencyHistogram.percentile(counts, 0.99)).isBetween(495.5 / 1.19, 495.5 * 1.19);
    assertThat(LatencyHistogram.percentile(counts, 0.50)).isLessThanOrEqualTo(LatencyHistogram.percentile(counts,
        0.95));
  }

  @Test
  void no_counts_have_no_percentile_and_trailing_empty_buckets_are_not_stored() {
    assertThat(LatencyHistogram.percentile(new long[LatencyHistogram.BUCKETS], 0.5)).isNull();
    long[] counts = new long[LatencyHistogram.BUCKETS];
    counts[3] = 2;
    assertThat(LatencyHistogram.trimmed(counts)).containsExactly(0, 0, 0, 2);
    // A trimmed array reads the same percentiles as the full one.
    assertThat(LatencyHistogram.percentile(LatencyHistogram.trimmed(counts), 0.5))
        .isEqualTo(LatencyHistogram.percentile(counts, 0.5));
  }
}
