package io.flowgate.deployments;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.flow.FlowDefinition;
import io.flowgate.flow.FlowPlan;
import io.flowgate.flow.FlowValidationException;
import io.flowgate.flow.NodeTypes;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Set;

/**
 * Checks a flow definition the way the control plane and the declarations both do (DESIGN §2.2): a name, then the
 * flow engine's own validation and compilation (one {@code api_input}, a DAG, known types, valid expressions).
 * Compiling expressions is CPU work: call it on a worker thread for large flows. Thread-safe.
 */
public final class FlowValidation {
  /** Members a client may send back from a read; they are not part of the definition. */
  private static final Set<String> READ_ONLY = Set.of("id", "version", "created_at", "updated_at");
  static final int MAX_NAME_LENGTH = 200;

  private FlowValidation() {
  }

  /**
   * The definition to store for {@code body}: the body without its read-only members, once it passed validation.
   * Throws {@link GatewayException} {@code invalid_request} for a bad name, {@code invalid_flow} (with
   * {@code details: [{node_id, message}]}) for a flow the engine refuses.
   */
  public static JsonObject definition(JsonObject body, NodeTypes nodeTypes) {
    JsonObject definition = body.copy();
    READ_ONLY.forEach(definition::remove);
    Object name = definition.getValue("name");
    if (!(name instanceof String s) || s.isBlank()) {
      throw new GatewayException(ErrorCode.INVALID_REQUEST,
          "The flow needs a \"name\": a non-empty string such as \"score-customer\".");
    }
    if (s.length() > MAX_NAME_LENGTH) {
      throw new GatewayException(ErrorCode.INVALID_REQUEST,
          "The flow's \"name\" is longer than " + MAX_NAME_LENGTH + " characters; shorten it.");
    }
    try {
      FlowPlan.compile(FlowDefinition.fromJson(definition), nodeTypes);
    } catch (FlowValidationException e) {
      JsonObject detail = new JsonObject().put("node_id", e.nodeId()).put("message", e.getMessage());
      throw GatewayException.withDetails(ErrorCode.INVALID_FLOW, e.getMessage(), new JsonArray().add(detail));
    } catch (ClassCastException | IllegalArgumentException e) {
      // A shape the engine did not anticipate (e.g. "nodes" not an array): still the client's mistake, not a 500.
      throw GatewayException.withDetails(ErrorCode.INVALID_FLOW,
          "The flow is malformed: \"nodes\" must be an array of {id, type, config} objects and \"edges\" an array "
              + "of {from, to} objects.",
          new JsonArray().add(new JsonObject().putNull("node_id").put("message", String.valueOf(e.getMessage()))));
    }
    return definition;
  }
}
