package io.flowgate.inference;

import io.flowgate.GatewayException;
import io.flowgate.flow.Expression;
import io.flowgate.flow.FlowValidationException;
import io.flowgate.flow.Node;
import io.flowgate.flow.NodeContext;
import io.flowgate.flow.NodeServices;
import io.flowgate.flow.NodeType;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The {@code inference} node type (DESIGN §2.2): sends the value of its {@code input} expression (JSONata, default
 * {@code $}; it must be a JSON object) to the inference server {@code inference_server_id} through this node's
 * {@link InferenceServers} — the runtime, pooled client and breakers of Fast Mode — and outputs the prediction (an
 * object). The server must belong to the run's profile ({@link NodeContext#profileId()}); an inference failure
 * fails the node with the problem's sentence. Registered through the {@link NodeType} SPI; it finds the runtime with
 * {@link NodeServices#service}. Thread-safe; its nodes run on the run's event loop and never block.
 */
public final class InferenceNodeType implements NodeType {
  /** The type name in flow definitions. */
  public static final String TYPE = "inference";
  static final String SERVER_FIELD = "inference_server_id";
  static final String INPUT_FIELD = "input";
  private static final List<String> FIELDS = List.of(INPUT_FIELD, SERVER_FIELD);
  private static final Set<String> ALLOWED = Set.copyOf(FIELDS);
  private static final String MISSING_ADVICE = "this node calls does not exist in the flow's profile any more; "
      + "point the node at one of the profile's inference servers.";

  /** For {@link java.util.ServiceLoader}. */
  public InferenceNodeType() {
  }

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public Node create(String nodeId, JsonObject config, NodeServices services) throws FlowValidationException {
    for (String field : config.fieldNames()) {
      if (!ALLOWED.contains(field)) {
        throw error(nodeId, "unknown config field \"" + field + "\" (allowed: " + String.join(", ", FIELDS) + ")");
      }
    }
    UUID serverId = serverId(config.getValue(SERVER_FIELD));
    if (serverId == null) {
      throw error(nodeId, "\"" + SERVER_FIELD + "\" is required: the id (a UUID) of one of the profile's "
          + "inference servers");
    }
    Object source = config.getValue(INPUT_FIELD);
    if (source != null && !(source instanceof String)) {
      throw error(nodeId, "\"" + INPUT_FIELD + "\" must be a string (a JSONata expression)");
    }
    Expression input = Expression.compile(nodeId, INPUT_FIELD, source == null ? "$" : (String) source,
        services.limits());
    // Null on a gateway without a runtime (a control plane, a unit test): such flows validate but cannot run.
    return new InferenceNode(serverId, input, services.service(InferenceServers.class));
  }

  /**
   * The {@code inference} nodes of a flow definition and the servers they call, by node id in definition order.
   * Nodes whose server id is not a UUID are left out (validation refuses them).
   */
  public static Map<String, UUID> serverIds(JsonObject definition) {
    Map<String, UUID> ids = new LinkedHashMap<>();
    Object nodes = definition.getValue("nodes");
    if (!(nodes instanceof JsonArray list)) {
      return ids;
    }
    for (Object item : list) {
      if (item instanceof JsonObject node && TYPE.equals(node.getValue("type"))
          && node.getValue("id") instanceof String id && node.getValue("config") instanceof JsonObject config) {
        UUID serverId = serverId(config.getValue(SERVER_FIELD));
        if (serverId != null) {
          ids.put(id, serverId);
        }
      }
    }
    return ids;
  }

  private static UUID serverId(Object value) {
    if (!(value instanceof String s) || s.length() != 36) {
      return null;
    }
    try {
      return UUID.fromString(s);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static FlowValidationException error(String nodeId, String problem) {
    return new FlowValidationException(nodeId, "node '" + nodeId + "': " + problem);
  }

  /** One compiled {@code inference} node. Immutable; runs on the run's context. */
  private record InferenceNode(UUID serverId, Expression input, InferenceServers runtime) implements Node {

    @Override
    public Future<Object> execute(NodeContext ctx) {
      if (runtime == null) {
        return Future.failedFuture("this gateway has no inference runtime to call inference server " + serverId);
      }
      if (ctx.profileId() == null) {
        return Future.failedFuture("an inference node runs only in a run of a deployment (it has no profile)");
      }
      Object value = input.evaluate(ctx);
      if (!(value instanceof Map<?, ?> map)) {
        return Future.failedFuture("the input expression '" + input.source() + "' must give a JSON object to send "
            + "to the inference server, but gave " + describe(value));
      }
      @SuppressWarnings("unchecked")
      JsonObject inputData = new JsonObject((Map<String, Object>) map);
      return runtime.infer(ctx.profileId(), serverId, inputData, 0, MISSING_ADVICE)
          .<Object>map(InferenceResult::output)
          .recover(e -> Future.failedFuture(e instanceof GatewayException ge
              ? new GatewayException(ge.code(), ge.detail().replace(ServerRuntime.WAIT_ADVICE, "")) : e));
    }

    private static String describe(Object value) {
      if (value == null) {
        return "nothing (undefined)";
      }
      if (value instanceof List<?>) {
        return "an array";
      }
      if (value instanceof String) {
        return "a string";
      }
      if (value instanceof Number) {
        return "a number";
      }
      return value instanceof Boolean ? "a boolean" : "a " + value.getClass().getSimpleName();
    }
  }
}
