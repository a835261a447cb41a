package io.flowgate.flow;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A flow compiled once per flow version: graph validated, nodes instantiated (expressions compiled), topological
 * order and predecessor/successor index arrays precomputed, input schema compiled. Immutable and thread-safe,
 * shared by all runs; compiling is CPU work of about a millisecond (run it off the event loop for large flows).
 */
public final class FlowPlan {

  static final String API_INPUT = "api_input";
  static final String OUTPUT = "output";
  static final String CONDITION = "condition";

  /** {@link #succWhen} values: the edge is always followed, or only when the condition was true / false. */
  static final byte ALWAYS = 0;
  static final byte WHEN_TRUE = 1;
  static final byte WHEN_FALSE = 2;

  private final FlowDefinition definition;
  // Everything below is indexed by position in topological order; position 0 is the api_input node.
  final String[] ids;
  final Node[] nodes;
  final boolean[] blocking;
  final int[][] preds;
  final int[][] succs;
  final byte[][] succWhen;
  final int outputPosition;
  private final JsonObject testData;
  private final JsonObject inputSchemaJson;
  private final InputSchema inputSchema;

  private FlowPlan(FlowDefinition definition, String[] ids, Node[] nodes, int[][] preds, int[][] succs,
      byte[][] succWhen, int outputPosition, JsonObject testData, JsonObject inputSchemaJson,
      InputSchema inputSchema) {
    this.definition = definition;
    this.ids = ids;
    this.nodes = nodes;
    this.blocking = new boolean[nodes.length];
    for (int i = 0; i < nodes.length; i++) {
      blocking[i] = nodes[i].blocking();
    }
    this.preds = preds;
    this.succs = succs;
    this.succWhen = succWhen;
    this.outputPosition = outputPosition;
    this.testData = testData;
    this.inputSchemaJson = inputSchemaJson;
    this.inputSchema = inputSchema;
  }

  /**
   * Validates {@code def} and compiles it: known types; edges between existing nodes, no duplicates; exactly one
   * {@code api_input} (no incoming edges) and exactly one {@code output} (no outgoing edges); {@code when} on every
   * edge leaving a {@code condition} node and on no other; no cycle; every node reachable from {@code api_input};
   * each node's config valid for its type (expressions compile, the JSON schema is valid).
   *
   * @throws FlowValidationException with a sentence naming the offending node or edge
   */
  public static FlowPlan compile(FlowDefinition def, NodeTypes types) throws FlowValidationException {
    Objects.requireNonNull(def, "def");
    Objects.requireNonNull(types, "types");
    List<NodeDef> defs = def.nodes();
    int n = defs.size();
    String[] defIds = new String[n];
    Map<String, Integer> index = new HashMap<>();
    NodeType[] nodeTypes = new NodeType[n];
    List<String> inputs = new ArrayList<>();
    List<String> outputs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      NodeDef node = defs.get(i);
      defIds[i] = node.id();
      if (index.putIfAbsent(node.id(), i) != null) {
        throw new FlowValidationException(node.id(), "node '" + node.id() + "': duplicate node id");
      }
      nodeTypes[i] = types.get(node.type());
      if (nodeTypes[i] == null) {
        throw new FlowValidationException(node.id(), "node '" + node.id() + "': unknown type '" + node.type()
            + "' (known types: " + String.join(", ", types.names()) + ")");
      }
      if (API_INPUT.equals(node.type())) {
        inputs.add(node.id());
      } else if (OUTPUT.equals(node.type())) {
        outputs.add(node.id());
      }
    }
    exactlyOne(API_INPUT, inputs);
    exactlyOne(OUTPUT, outputs);
    int root = index.get(inputs.get(0));
    int output = index.get(outputs.get(0));

    List<EdgeDef> edges = def.edges();
    int[] from = new int[edges.size()];
    int[] to = new int[edges.size()];
    byte[] when = new byte[edges.size()];
    Set<Long> pairs = new HashSet<>();
    for (int e = 0; e < edges.size(); e++) {
      EdgeDef edge = edges.get(e);
      String label = "edge from '" + edge.from() + "' to '" + edge.to() + "': ";
      Integer f = index.get(edge.from());
      Integer t = index.get(edge.to());
      if (f == null || t == null) {
        String missing = f == null ? edge.from() : edge.to();
        throw new FlowValidationException(f != null ? edge.from() : t != null ? edge.to() : null,
            label + "node '" + missing + "' does not exist");
      }
      if (!pairs.add(((long) f << 32) | t)) {
        throw new FlowValidationException(edge.from(), label + "duplicate edge");
      }
      boolean fromCondition = CONDITION.equals(defs.get(f).type());
      if (fromCondition && edge.when() == null) {
        throw new FlowValidationException(edge.from(),
            label + "edges leaving condition node '" + edge.from() + "' need \"when\": true or false");
      }
      if (!fromCondition && edge.when() != null) {
        throw new FlowValidationException(edge.from(),
            label + "\"when\" is only allowed on edges leaving a condition node");
      }
      if (t == root) {
        throw new FlowValidationException(edge.to(),
            label + "api_input node '" + edge.to() + "' cannot have incoming edges");
      }
      if (f == output) {
        throw new FlowValidationException(edge.from(),
            label + "output node '" + edge.from() + "' cannot have outgoing edges");
      }
      from[e] = f;
      to[e] = t;
      when[e] = edge.when() == null ? ALWAYS : edge.when() ? WHEN_TRUE : WHEN_FALSE;
    }

    int[] order = DagPlan.of(defIds, from, to, root).order();
    int[] position = new int[n];
    for (int p = 0; p < n; p++) {
      position[order[p]] = p;
    }

    NodeServices services = types.services();
    String[] ids = new String[n];
    Node[] nodes = new Node[n];
    for (int p = 0; p < n; p++) {
      NodeDef node = defs.get(order[p]);
      ids[p] = node.id();
      nodes[p] = create(nodeTypes[order[p]], node, services);
    }

    int[] predCount = new int[n];
    int[] succCount = new int[n];
    for (int e = 0; e < from.length; e++) {
      succCount[position[from[e]]]++;
      predCount[position[to[e]]]++;
    }
    int[][] preds = new int[n][];
    int[][] succs = new int[n][];
    byte[][] succWhen = new byte[n][];
    for (int p = 0; p < n; p++) {
      preds[p] = new int[predCount[p]];
      succs[p] = new int[succCount[p]];
      succWhen[p] = new byte[succCount[p]];
      predCount[p] = 0;
      succCount[p] = 0;
    }
    for (int e = 0; e < from.length; e++) {
      int f = position[from[e]];
      int t = position[to[e]];
      succWhen[f][succCount[f]] = when[e];
      succs[f][succCount[f]++] = t;
      preds[t][predCount[t]++] = f;
    }
    for (int[] p : preds) {
      Arrays.sort(p);
    }

    NodeDef input = defs.get(root);
    Object testData = input.config().getValue("test_data");
    Object schema = input.config().getValue("schema");
    InputSchema compiledSchema = schema == null ? null : InputSchema.compile(input.id(), schema);
    // The boolean schemas as their object equivalents: true accepts everything, false nothing.
    JsonObject schemaJson = schema instanceof JsonObject o ? o.copy()
        : Boolean.TRUE.equals(schema) ? new JsonObject()
        : Boolean.FALSE.equals(schema) ? new JsonObject().put("not", new JsonObject()) : null;
    return new FlowPlan(def, ids, nodes, preds, succs, succWhen, position[output],
        testData instanceof JsonObject o ? o.copy() : new JsonObject(), schemaJson, compiledSchema);
  }

  /** The definition this plan was compiled from. */
  public FlowDefinition definition() {
    return definition;
  }

  /** The {@code api_input} node's {@code config.test_data}, or an empty object (a copy). */
  public JsonObject testData() {
    return testData.copy();
  }

  /** The {@code api_input} node's JSON Schema (a copy), or null when it has none. */
  public JsonObject inputSchema() {
    return inputSchemaJson == null ? null : inputSchemaJson.copy();
  }

  /**
   * Checks {@code inputData} against the {@code api_input} JSON Schema (about 3 µs for a small object; safe on the
   * event loop for bodies within the request size limit).
   *
   * @return one {@code {"field": "/param1", "message": "..."}} per violation (field is a JSON Pointer, "" for the
   *     whole input); empty when valid or when there is no schema
   */
  public List<JsonObject> validateInput(JsonObject inputData) {
    return inputSchema == null ? List.of() : inputSchema.validate(inputData);
  }

  int size() {
    return ids.length;
  }

  private static void exactlyOne(String type, List<String> found) throws FlowValidationException {
    if (found.size() == 1) {
      return;
    }
    StringBuilder sb = new StringBuilder("flow must have exactly one ").append(type).append(" node (found ")
        .append(found.size());
    for (int i = 0; i < found.size(); i++) {
      sb.append(i == 0 ? ": '" : ", '").append(found.get(i)).append('\'');
    }
    throw new FlowValidationException(found.size() > 1 ? found.get(1) : null, sb.append(')').toString());
  }

  private static Node create(NodeType type, NodeDef def, NodeServices services) throws FlowValidationException {
    Node node;
    try {
      node = type.create(def.id(), def.config().copy(), services);
    } catch (FlowValidationException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new FlowValidationException(def.id(), "node '" + def.id() + "': invalid config: " + e.getMessage());
    }
    if (node == null) {
      throw new FlowValidationException(def.id(),
          "node '" + def.id() + "': node type '" + def.type() + "' created no node");
    }
    return node;
  }
}
