package io.flowgate.control;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.vertx.ext.web.RoutingContext;
import java.util.List;

/** Query parameters of the control plane's list endpoints, checked with messages that say what to send instead. */
final class QueryParams {
  private QueryParams() {
  }

  /** The one value of query parameter {@code name}, or null; given twice is ambiguous and refused. */
  static String single(RoutingContext rc, String name) {
    List<String> values = rc.queryParam(name);
    if (values.size() > 1) {
      throw new GatewayException(ErrorCode.INVALID_REQUEST, "Give \"" + name + "\" at most once.");
    }
    return values.isEmpty() ? null : values.get(0);
  }

  /** {@code limit} as a whole number from 1 to {@code max}; {@code fallback} when absent. */
  static int limit(String raw, int fallback, int max) {
    if (raw == null) {
      return fallback;
    }
    String value = raw.trim();
    boolean digits = !value.isEmpty() && value.length() <= 9 && value.chars().allMatch(c -> c >= '0' && c <= '9');
    int limit = digits ? Integer.parseInt(value) : -1;
    if (limit < 1 || limit > max) {
      throw new GatewayException(ErrorCode.INVALID_REQUEST, "\"limit\" must be a whole number from 1 to " + max
          + " (default " + fallback + "); got \"" + shorten(raw) + "\".");
    }
    return limit;
  }

  /** A client's value quoted back in a message, cut to 40 characters. */
  static String shorten(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "…" : s;
  }
}
