package io.flowgate.http;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * At most one log line per key per interval, so that a flood of the same failure (an inference server down under a
 * load test) costs a counter increment per request instead of a console write. The line that is let through says how
 * many were left out since the previous one. Thread-safe.
 */
public final class LogThrottle {
  private final long intervalNanos;
  private final LongSupplier clock;
  private final ConcurrentHashMap<Object, Slot> slots = new ConcurrentHashMap<>();

  private static final class Slot {
    private long next;
    private long suppressed;
    private boolean used;
  }

  public LogThrottle(long interval, TimeUnit unit) {
    this(interval, unit, System::nanoTime);
  }

  LogThrottle(long interval, TimeUnit unit, LongSupplier clock) {
    this.intervalNanos = unit.toNanos(interval);
    this.clock = clock;
  }

  /**
   * Whether a line for {@code key} may be written now: -1 if not (it is counted as left out), otherwise the number
   * of lines left out since the last one written.
   */
  public long admit(Object key) {
    Slot slot = slots.computeIfAbsent(key, k -> new Slot());
    long now = clock.getAsLong();
    synchronized (slot) {
      if (slot.used && now - slot.next < 0) {
        slot.suppressed++;
        return -1;
      }
      slot.used = true;
      slot.next = now + intervalNanos;
      long left = slot.suppressed;
      slot.suppressed = 0;
      return left;
    }
  }

  /** {@code ""}, or {@code " (N similar lines left out)"} for a count from {@link #admit}. */
  public static String leftOut(long count) {
    return count <= 0 ? "" : " (" + count + " similar lines left out)";
  }
}
