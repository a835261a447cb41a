package io.flowgate.flow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * The compiled JSON Schema (draft 2020-12 unless {@code $schema} says otherwise) of an {@code api_input} node,
 * checked against its meta-schema at compile time. Remote {@code $ref}s are never fetched. Immutable and
 * thread-safe.
 */
final class InputSchema {

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  // The library's default loader resolves the meta-schemas from its own jar and fetches nothing remote.
  private static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
  private static final Map<String, Schema> META_SCHEMAS = new ConcurrentHashMap<>();

  private final Schema schema;

  private InputSchema(Schema schema) {
    this.schema = schema;
  }

  /**
   * Compiles {@code schemaValue} (a JSON object or boolean).
   *
   * @throws FlowValidationException {@code node 'input': invalid JSON schema: ...}
   */
  static InputSchema compile(String nodeId, Object schemaValue) throws FlowValidationException {
    String prefix = "node '" + nodeId + "': invalid JSON schema: ";
    Object plain = JsonValues.plain(schemaValue, false);
    if (!(plain instanceof Map<?, ?>) && !(plain instanceof Boolean)) {
      throw new FlowValidationException(nodeId, prefix + "\"schema\" must be a JSON object or a boolean");
    }
    JsonNode node = toNode(plain);
    String dialect = SpecificationVersion.DRAFT_2020_12.getDialectId();
    JsonNode declared = node.path("$schema");
    if (declared.isTextual()) {
      dialect = declared.asText();
    } else if (!declared.isMissingNode()) {
      throw new FlowValidationException(nodeId, prefix + "\"$schema\" must be a string");
    }
    Schema meta = metaSchema(nodeId, dialect);
    List<Error> problems = meta.validate(node);
    if (!problems.isEmpty()) {
      String detail = problems.stream().limit(3)
          .map(e -> pointer(e) + ": " + e.getMessage())
          .collect(Collectors.joining("; "));
      throw new FlowValidationException(nodeId, prefix + detail);
    }
    try {
      Schema schema = REGISTRY.getSchema(node);
      // Resolves every $ref now, so a dangling one fails the flow's creation rather than a run.
      schema.initializeValidators();
      return new InputSchema(schema);
    } catch (RuntimeException e) {
      throw new FlowValidationException(nodeId, prefix + e.getMessage());
    }
  }

  /** The violations of {@code inputData}, one {@code {"field": "/a/0", "message": "..."}} each; empty if valid. */
  List<JsonObject> validate(JsonObject inputData) {
    List<Error> errors = schema.validate(toNode(inputData == null ? Map.of() : inputData.getMap()));
    if (errors.isEmpty()) {
      return List.of();
    }
    List<JsonObject> out = new ArrayList<>(errors.size());
    for (Error e : errors) {
      out.add(new JsonObject().put("field", pointer(e)).put("message", e.getMessage()));
    }
    return out;
  }

  private static Schema metaSchema(String nodeId, String dialect) throws FlowValidationException {
    Schema meta = META_SCHEMAS.get(dialect);
    if (meta != null) {
      return meta;
    }
    try {
      meta = REGISTRY.getSchema(SchemaLocation.of(dialect));
      meta.initializeValidators();
    } catch (RuntimeException e) {
      throw new FlowValidationException(nodeId,
          "node '" + nodeId + "': invalid JSON schema: unsupported \"$schema\" '" + dialect + "'");
    }
    META_SCHEMAS.putIfAbsent(dialect, meta);
    return meta;
  }

  /** The instance location as a JSON Pointer; for a missing required property, the property's own pointer. */
  private static String pointer(Error e) {
    String location = e.getInstanceLocation() == null ? "" : e.getInstanceLocation().toString();
    if (location.equals("$")) {
      location = "";
    }
    if ("required".equals(e.getKeyword()) && e.getProperty() != null) {
      location = location + "/" + e.getProperty().replace("~", "~0").replace("/", "~1");
    }
    return location;
  }

  private static JsonNode toNode(Object v) {
    Object p = v instanceof Map<?, ?> || v instanceof List<?> ? v : JsonValues.plain(v, true);
    if (p == null) {
      return NODES.nullNode();
    }
    if (p instanceof Map<?, ?> m) {
      ObjectNode o = NODES.objectNode();
      for (Map.Entry<?, ?> e : m.entrySet()) {
        o.set(String.valueOf(e.getKey()), toNode(e.getValue()));
      }
      return o;
    }
    if (p instanceof List<?> l) {
      ArrayNode a = NODES.arrayNode(l.size());
      for (Object item : l) {
        a.add(toNode(item));
      }
      return a;
    }
    if (p instanceof String s) {
      return NODES.textNode(s);
    }
    if (p instanceof Boolean b) {
      return NODES.booleanNode(b);
    }
    if (p instanceof Integer i) {
      return NODES.numberNode(i);
    }
    if (p instanceof Long l) {
      return NODES.numberNode(l);
    }
    if (p instanceof Double d) {
      return NODES.numberNode(d);
    }
    if (p instanceof BigInteger b) {
      return NODES.numberNode(b);
    }
    if (p instanceof BigDecimal b) {
      return NODES.numberNode(b);
    }
    if (p instanceof Number n) {
      return NODES.numberNode(n.doubleValue());
    }
    return NODES.textNode(p.toString());
  }
}
