package io.flowgate.flow.nodes;

import io.flowgate.flow.Expression;
import io.flowgate.flow.FlowValidationException;
import io.flowgate.flow.Node;
import io.flowgate.flow.NodeServices;
import io.flowgate.flow.NodeType;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.Set;

/**
 * {@code output}: the flow's result, which becomes {@code output_data}: its optional JSONata {@code expression},
 * else its input. Thread-safe.
 */
final class OutputNodeType implements NodeType {

  private static final Set<String> FIELDS = Set.of("expression");

  @Override
  public String type() {
    return "output";
  }

  @Override
  public Node create(String nodeId, JsonObject config, NodeServices services) throws FlowValidationException {
    Configs.allowOnly(nodeId, config, FIELDS);
    String source = Configs.optionalString(nodeId, config, "expression");
    if (source == null || source.isBlank()) {
      return ctx -> Future.succeededFuture(ctx.input());
    }
    Expression expression = Expression.compile(nodeId, null, source, services.limits());
    return ctx -> Future.succeededFuture(expression.evaluate(ctx));
  }
}
