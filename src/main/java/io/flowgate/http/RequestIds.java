package io.flowgate.http;

import java.util.concurrent.ThreadLocalRandom;

/** Request ids: the client's {@code X-Request-Id} when it is sane, a random one otherwise. Any thread. */
public final class RequestIds {
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private RequestIds() {
  }

  /** The client's id if it is 1..128 visible ASCII characters, else a new one. */
  public static String acceptOrCreate(String fromClient) {
    if (fromClient != null && !fromClient.isEmpty() && fromClient.length() <= 128) {
      boolean ok = true;
      for (int i = 0; i < fromClient.length() && ok; i++) {
        char c = fromClient.charAt(i);
        ok = c > 0x20 && c < 0x7f;
      }
      if (ok) {
        return fromClient;
      }
    }
    return random();
  }

  /** A random version-4 UUID string; ThreadLocalRandom avoids SecureRandom's contention on the hot path. */
  public static String random() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    return format((r.nextLong() & 0xffffffffffff0fffL) | 0x0000000000004000L,
        (r.nextLong() & 0x3fffffffffffffffL) | 0x8000000000000000L);
  }

  /**
   * A version-7 UUID string (RFC 9562): the current Unix time in milliseconds, then 74 random bits. Run ids are these:
   * ids made one after the other sort one after the other, so PostgreSQL adds each run's key at the right edge of
   * the primary-key index, where the pages are in memory already, instead of at a random page of an index larger
   * than its cache (a read, and after each checkpoint a full-page image in the WAL). The time in the id is within a
   * millisecond or so of the run's {@code created_at}, which the run shows anyway.
   */
  public static String timeOrdered() {
    return timeOrdered(System.currentTimeMillis());
  }

  static String timeOrdered(long epochMillis) {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    return format((epochMillis << 16) | 0x7000L | (r.nextLong() & 0x0fffL),
        (r.nextLong() & 0x3fffffffffffffffL) | 0x8000000000000000L);
  }

  private static String format(long hi, long lo) {
    char[] out = new char[36];
    int p = 0;
    for (int i = 0; i < 16; i++) {
      if (i == 4 || i == 6 || i == 8 || i == 10) {
        out[p++] = '-';
      }
      long v = i < 8 ? hi >>> (56 - 8 * i) : lo >>> (56 - 8 * (i - 8));
      out[p++] = HEX[(int) (v >>> 4) & 0xf];
      out[p++] = HEX[(int) v & 0xf];
    }
    return new String(out);
  }
}
