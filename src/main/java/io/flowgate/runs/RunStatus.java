package io.flowgate.runs;

import java.util.Locale;

/** The statuses of a run (DESIGN §1.2). Terminal statuses never change again. */
public enum RunStatus {
  QUEUED, RUNNING, COMPLETED, FAILED, TIMED_OUT, CANCELLED;

  private final String wire = name().toLowerCase(Locale.ROOT);

  public String wire() {
    return wire;
  }

  public boolean terminal() {
    return this != QUEUED && this != RUNNING;
  }

  /** The status named {@code value}, or null. */
  public static RunStatus fromWire(String value) {
    for (RunStatus s : values()) {
      if (s.wire.equals(value)) {
        return s;
      }
    }
    return null;
  }
}
