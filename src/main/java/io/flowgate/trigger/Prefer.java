package io.flowgate.trigger;

import io.vertx.core.http.HttpServerRequest;
import java.util.List;

/**
 * The preferences of RFC 7240 that a trigger honours: {@code respond-async} and {@code wait=N} (seconds). Every
 * other preference, and a malformed value, is ignored, as the RFC asks. Immutable.
 */
record Prefer(boolean respondAsync, Integer waitSeconds) {
  static final Prefer NONE = new Prefer(false, null);

  static Prefer of(HttpServerRequest request) {
    List<String> headers = request.headers().getAll("Prefer");
    if (headers.isEmpty()) {
      return NONE;
    }
    boolean async = false;
    Integer wait = null;
    for (String header : headers) {
      for (String preference : header.split(",")) {
        // Parameters after ';' qualify a preference; neither of ours takes any.
        String token = preference.split(";", 2)[0].trim();
        int eq = token.indexOf('=');
        String name = (eq < 0 ? token : token.substring(0, eq)).trim();
        String value = eq < 0 ? null : token.substring(eq + 1).trim().replace("\"", "");
        if (name.equalsIgnoreCase("respond-async")) {
          async = true;
        } else if (name.equalsIgnoreCase("wait") && value != null) {
          try {
            long seconds = Long.parseLong(value);
            if (seconds >= 0) {
              wait = (int) Math.min(seconds, Integer.MAX_VALUE);
            }
          } catch (NumberFormatException ignored) {
            // RFC 7240 §2: a preference that is not understood is ignored.
          }
        }
      }
    }
    return new Prefer(async, wait);
  }
}
