package io.flowgate.usage;

import java.time.Duration;

/** The spans a usage report may cover ({@code ?window=1h|24h|7d}). Immutable; any thread. */
public enum UsageWindow {
  HOUR("1h", Duration.ofHours(1)),
  DAY("24h", Duration.ofHours(24)),
  WEEK("7d", Duration.ofDays(7));

  /** The window when the client names none. */
  public static final UsageWindow DEFAULT = DAY;

  private final String wire;
  private final Duration span;

  UsageWindow(String wire, Duration span) {
    this.wire = wire;
    this.span = span;
  }

  /** The window named {@code wire}, or null. */
  public static UsageWindow fromWire(String wire) {
    for (UsageWindow w : values()) {
      if (w.wire.equals(wire)) {
        return w;
      }
    }
    return null;
  }

  public String wire() {
    return wire;
  }

  public Duration span() {
    return span;
  }
}
