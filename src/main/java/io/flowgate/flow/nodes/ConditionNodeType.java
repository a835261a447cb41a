package io.flowgate.flow.nodes;

import com.dashjoin.jsonata.Jsonata;
import io.flowgate.flow.ConditionResult;
import io.flowgate.flow.Expression;
import io.flowgate.flow.FlowValidationException;
import io.flowgate.flow.Node;
import io.flowgate.flow.NodeServices;
import io.flowgate.flow.NodeType;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.Set;

/**
 * {@code condition}: evaluates its JSONata {@code expression} with JSONata truthiness (false, 0, "", null, empty
 * arrays and undefined are false) and passes its input on along the edges whose {@code when} matches. Thread-safe.
 */
final class ConditionNodeType implements NodeType {

  private static final Set<String> FIELDS = Set.of("expression");

  @Override
  public String type() {
    return "condition";
  }

  @Override
  public Node create(String nodeId, JsonObject config, NodeServices services) throws FlowValidationException {
    Configs.allowOnly(nodeId, config, FIELDS);
    Expression expression = Expression.compile(nodeId, null,
        Configs.requiredString(nodeId, config, "expression"), services.limits());
    return ctx -> Future.succeededFuture(
        new ConditionResult(Jsonata.boolize(expression.evaluate(ctx)), ctx.input()));
  }
}
