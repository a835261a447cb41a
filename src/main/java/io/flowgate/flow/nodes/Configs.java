package io.flowgate.flow.nodes;

import io.flowgate.flow.FlowValidationException;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Set;

/** Reads and checks built-in node configs, failing with a sentence that names the node and field. Pure. */
final class Configs {

  private Configs() {
  }

  /** Refuses fields the type does not know (a typo such as "expresion" would otherwise be silently ignored). */
  static void allowOnly(String nodeId, JsonObject config, Set<String> allowed) throws FlowValidationException {
    for (String field : config.fieldNames()) {
      if (!allowed.contains(field)) {
        throw error(nodeId, "unknown config field \"" + field + "\" (allowed: "
            + String.join(", ", allowed.stream().sorted().toList()) + ")");
      }
    }
  }

  static String requiredString(String nodeId, JsonObject config, String field) throws FlowValidationException {
    String value = optionalString(nodeId, config, field);
    if (value == null || value.isBlank()) {
      throw error(nodeId, "\"" + field + "\" is required (a non-empty string)");
    }
    return value;
  }

  static String optionalString(String nodeId, JsonObject config, String field) throws FlowValidationException {
    Object value = config.getValue(field);
    if (value != null && !(value instanceof String)) {
      throw error(nodeId, "\"" + field + "\" must be a string");
    }
    return (String) value;
  }

  /** A non-negative integral number (2 and 2.0 are fine, 2.5 and "2" are not). */
  static long nonNegativeInteger(String nodeId, JsonObject config, String field, Long defaultValue)
      throws FlowValidationException {
    Object value = config.getValue(field);
    if (value == null && defaultValue != null) {
      return defaultValue;
    }
    String problem = "\"" + field + "\" must be a non-negative integer";
    if (!(value instanceof Number n)) {
      throw error(nodeId, problem);
    }
    long l;
    if (n instanceof Integer || n instanceof Long || n instanceof Short || n instanceof Byte) {
      l = n.longValue();
    } else if (n instanceof BigInteger b && b.bitLength() < 63) {
      l = b.longValue();
    } else {
      double d = n instanceof BigDecimal b ? b.doubleValue() : n.doubleValue();
      if (d != Math.rint(d) || Math.abs(d) > Long.MAX_VALUE / 2.0) {
        throw error(nodeId, problem);
      }
      l = (long) d;
    }
    if (l < 0) {
      throw error(nodeId, problem);
    }
    return l;
  }

  static FlowValidationException error(String nodeId, String problem) {
    return new FlowValidationException(nodeId, "node '" + nodeId + "': " + problem);
  }
}
