package io.flowgate.deployments;

import java.util.Locale;

/** Where a run executes (DESIGN §1.1): through the distributed run queue, or in-process on the accepting node. */
public enum DeploymentType {
  API, SERVER;

  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The type named {@code value} on the wire, or null when there is none. */
  public static DeploymentType fromWire(String value) {
    for (DeploymentType t : values()) {
      if (t.wire().equals(value)) {
        return t;
      }
    }
    return null;
  }
}
