package io.flowgate.deployments;

import java.util.Locale;

/** How a trigger answers (DESIGN §1.1): wait for the result, 202 at once, or forward to an inference server. */
public enum ExecutionMode {
  SYNC, ASYNC, FAST;

  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The mode named {@code value} on the wire, or null when there is none. */
  public static ExecutionMode fromWire(String value) {
    for (ExecutionMode m : values()) {
      if (m.wire().equals(value)) {
        return m;
      }
    }
    return null;
  }
}
