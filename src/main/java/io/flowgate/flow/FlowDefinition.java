package io.flowgate.flow;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A parsed flow definition (DESIGN §2.2) whose shape has been checked: a name, nodes with unique ids, edges between
 * node ids. Graph and config checks happen in {@link FlowPlan#compile}. Immutable (do not mutate the nodes'
 * configs); usable on any thread.
 */
public record FlowDefinition(String name, List<NodeDef> nodes, List<EdgeDef> edges) {

  public FlowDefinition {
    Objects.requireNonNull(name, "name");
    nodes = List.copyOf(nodes);
    edges = List.copyOf(edges);
  }

  /**
   * Parses and shape-checks {@code json}: {@code name} a non-empty string, {@code nodes} an array of
   * {@code {"id", "type", "config"?}} with unique non-empty string ids, {@code edges} an array of
   * {@code {"from", "to", "when"?}}. Other top-level fields are ignored. Configs are copied.
   *
   * @throws FlowValidationException naming the first problem
   */
  public static FlowDefinition fromJson(JsonObject json) throws FlowValidationException {
    if (json == null) {
      throw flowError("flow definition must be a JSON object");
    }
    Object name = json.getValue("name");
    if (!(name instanceof String s) || s.isBlank()) {
      throw flowError("flow \"name\" must be a non-empty string");
    }
    List<NodeDef> nodes = parseNodes(json.getValue("nodes"));
    List<EdgeDef> edges = parseEdges(json.getValue("edges"));
    return new FlowDefinition((String) name, nodes, edges);
  }

  /** This definition as JSON, the shape {@link #fromJson} reads (a copy). */
  public JsonObject toJson() {
    JsonArray n = new JsonArray();
    for (NodeDef node : nodes) {
      n.add(node.toJson());
    }
    JsonArray e = new JsonArray();
    for (EdgeDef edge : edges) {
      e.add(edge.toJson());
    }
    return new JsonObject().put("name", name).put("nodes", n).put("edges", e);
  }

  private static List<NodeDef> parseNodes(Object value) throws FlowValidationException {
    if (!(value instanceof JsonArray array)) {
      throw flowError("flow \"nodes\" must be an array");
    }
    List<NodeDef> nodes = new ArrayList<>(array.size());
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < array.size(); i++) {
      Object item = array.getValue(i);
      if (!(item instanceof JsonObject node)) {
        throw flowError("nodes[" + i + "] must be an object with \"id\" and \"type\"");
      }
      Object id = node.getValue("id");
      if (!(id instanceof String nodeId) || nodeId.isBlank()) {
        throw flowError("nodes[" + i + "]: \"id\" must be a non-empty string");
      }
      if (!ids.add(nodeId)) {
        throw new FlowValidationException(nodeId, "node '" + nodeId + "': duplicate node id");
      }
      Object type = node.getValue("type");
      if (!(type instanceof String t) || t.isBlank()) {
        throw new FlowValidationException(nodeId, "node '" + nodeId + "': \"type\" must be a non-empty string");
      }
      Object config = node.getValue("config");
      if (config != null && !(config instanceof JsonObject)) {
        throw new FlowValidationException(nodeId, "node '" + nodeId + "': \"config\" must be an object");
      }
      nodes.add(new NodeDef(nodeId, t, config == null ? new JsonObject() : ((JsonObject) config).copy()));
    }
    return nodes;
  }

  private static List<EdgeDef> parseEdges(Object value) throws FlowValidationException {
    if (!(value instanceof JsonArray array)) {
      throw flowError("flow \"edges\" must be an array");
    }
    List<EdgeDef> edges = new ArrayList<>(array.size());
    for (int i = 0; i < array.size(); i++) {
      Object item = array.getValue(i);
      if (!(item instanceof JsonObject edge)) {
        throw flowError("edges[" + i + "] must be an object with \"from\" and \"to\"");
      }
      Object from = edge.getValue("from");
      Object to = edge.getValue("to");
      if (!(from instanceof String f) || f.isBlank() || !(to instanceof String t) || t.isBlank()) {
        throw flowError("edges[" + i + "]: \"from\" and \"to\" must be non-empty strings");
      }
      Object when = edge.getValue("when");
      if (when != null && !(when instanceof Boolean)) {
        throw new FlowValidationException(f,
            "edge from '" + f + "' to '" + t + "': \"when\" must be true or false");
      }
      edges.add(new EdgeDef(f, t, (Boolean) when));
    }
    return edges;
  }

  private static FlowValidationException flowError(String message) {
    return new FlowValidationException(null, message);
  }
}
