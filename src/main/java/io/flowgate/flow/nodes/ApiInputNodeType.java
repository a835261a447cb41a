package io.flowgate.flow.nodes;

import io.flowgate.flow.FlowValidationException;
import io.flowgate.flow.Node;
import io.flowgate.flow.NodeServices;
import io.flowgate.flow.NodeType;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.Set;

/**
 * {@code api_input}: the flow's entry; outputs the run's {@code input_data}. Config: {@code test_data} (object,
 * for example code), {@code schema} (JSON Schema of {@code input_data}; compiled by the plan). Thread-safe.
 */
final class ApiInputNodeType implements NodeType {

  private static final Set<String> FIELDS = Set.of("test_data", "schema");

  @Override
  public String type() {
    return "api_input";
  }

  @Override
  public Node create(String nodeId, JsonObject config, NodeServices services) throws FlowValidationException {
    Configs.allowOnly(nodeId, config, FIELDS);
    Object testData = config.getValue("test_data");
    if (testData != null && !(testData instanceof JsonObject)) {
      throw Configs.error(nodeId, "\"test_data\" must be an object");
    }
    Object schema = config.getValue("schema");
    if (schema != null && !(schema instanceof JsonObject) && !(schema instanceof Boolean)) {
      throw Configs.error(nodeId, "invalid JSON schema: \"schema\" must be a JSON object or a boolean");
    }
    // The executor hands the root node the run's input_data as its input.
    return ctx -> Future.succeededFuture(ctx.input());
  }
}
