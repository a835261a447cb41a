package io.flowgate.flow.nodes;

import io.flowgate.flow.Expression;
import io.flowgate.flow.FlowValidationException;
import io.flowgate.flow.Node;
import io.flowgate.flow.NodeServices;
import io.flowgate.flow.NodeType;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.Set;

/** {@code transform}: outputs the value of its JSONata {@code expression}. Thread-safe. */
final class TransformNodeType implements NodeType {

  private static final Set<String> FIELDS = Set.of("expression");

  @Override
  public String type() {
    return "transform";
  }

  @Override
  public Node create(String nodeId, JsonObject config, NodeServices services) throws FlowValidationException {
    Configs.allowOnly(nodeId, config, FIELDS);
    Expression expression = Expression.compile(nodeId, null,
        Configs.requiredString(nodeId, config, "expression"), services.limits());
    return ctx -> Future.succeededFuture(expression.evaluate(ctx));
  }
}
