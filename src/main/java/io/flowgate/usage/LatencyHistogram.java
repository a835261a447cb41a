package io.flowgate.usage;

import java.util.Arrays;

/**
 * The fixed latency buckets usage is counted in, so that counts from any node and any minute add up and percentiles
 * can be read from the sum. Bucket {@code i} holds durations in {@code (bound(i - 1), bound(i)]} with
 * {@code bound(i) = 0.1 ms × 2^(i/4)}: four buckets per doubling (each 19% wider than the last), from 0.1 ms to about
 * 30 hours; the last bucket holds everything longer. A percentile is read by linear interpolation inside its bucket,
 * so it is off by less than a bucket's width (under 19%). Pure functions; any thread.
 */
public final class LatencyHistogram {
  /** Buckets with an upper bound, plus one for everything longer. */
  public static final int BUCKETS = 122;
  private static final double SMALLEST_MS = 0.1;
  private static final double[] BOUNDS = new double[BUCKETS - 1];

  static {
    for (int i = 0; i < BOUNDS.length; i++) {
      BOUNDS[i] = SMALLEST_MS * Math.pow(2, i / 4.0);
    }
  }

  private LatencyHistogram() {
  }

  /** The bucket of a duration in milliseconds. */
  public static int bucket(double ms) {
    if (!(ms > SMALLEST_MS)) {
      return 0;
    }
    int i = (int) Math.ceil(4 * Math.log(ms / SMALLEST_MS) / Math.log(2) - 1e-9);
    if (i >= BOUNDS.length) {
      return BUCKETS - 1;
    }
    // Floating point may land one off at a boundary: settle it against the bounds themselves.
    if (ms > BOUNDS[i]) {
      i++;
    } else if (i > 0 && ms <= BOUNDS[i - 1]) {
      i--;
    }
    return Math.min(i, BUCKETS - 1);
  }

  /** The upper bound of bucket {@code i} in milliseconds (the last bucket has none: its lower bound). */
  public static double upperBound(int i) {
    return BOUNDS[Math.min(i, BOUNDS.length - 1)];
  }

  /** The lower bound of bucket {@code i} in milliseconds. */
  public static double lowerBound(int i) {
    return i == 0 ? 0 : BOUNDS[Math.min(i - 1, BOUNDS.length - 1)];
  }

  /**
   * The {@code q}-quantile ({@code 0 < q <= 1}) of the durations counted in {@code counts} (index = bucket, may be
   * shorter than {@link #BUCKETS}), in milliseconds rounded to 0.001; null when nothing was counted.
   */
  public static Double percentile(long[] counts, double q) {
    long total = Arrays.stream(counts).sum();
    if (total == 0) {
      return null;
    }
    long rank = Math.max(1, (long) Math.ceil(q * total));
    long before = 0;
    for (int i = 0; i < counts.length; i++) {
      long n = counts[i];
      if (n > 0 && before + n >= rank) {
        double lower = lowerBound(i);
        double upper = i >= BUCKETS - 1 ? lower : upperBound(i);
        double value = lower + (upper - lower) * (rank - before) / n;
        return Math.round(value * 1000) / 1000.0;
      }
      before += n;
    }
    return null;
  }

  /** {@code counts} without its trailing empty buckets: what is stored. */
  public static long[] trimmed(long[] counts) {
    int end = counts.length;
    while (end > 0 && counts[end - 1] == 0) {
      end--;
    }
    return end == counts.length ? counts : Arrays.copyOf(counts, end);
  }
}
