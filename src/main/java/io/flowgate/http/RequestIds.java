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
    long hi = (r.nextLong() & 0xffffffffffff0fffL) | 0x0000000000004000L;
    long lo = (r.nextLong() & 0x3fffffffffffffffL) | 0x8000000000000000L;
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
