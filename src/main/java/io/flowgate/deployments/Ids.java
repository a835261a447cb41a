package io.flowgate.deployments;

import java.util.UUID;

/**
 * Strict parsing of resource ids: only the canonical 36-character UUID form is accepted, so that odd spellings that
 * {@link UUID#fromString} tolerates (short groups, missing zeros) never reach a query. Any thread.
 */
public final class Ids {
  private Ids() {
  }

  /** The UUID spelled by {@code value}, or null when it is not a canonical UUID. */
  public static UUID parse(String value) {
    if (value == null || value.length() != 36) {
      return null;
    }
    for (int i = 0; i < 36; i++) {
      char c = value.charAt(i);
      boolean dash = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash ? c != '-' : !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')) {
        return null;
      }
    }
    return UUID.fromString(value);
  }
}
