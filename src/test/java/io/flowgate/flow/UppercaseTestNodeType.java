package io.flowgate.flow;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.Locale;
import java.util.Map;

/** A custom node type found through the SPI: upper-cases its input's {@code config.field}. */
public final class UppercaseTestNodeType implements NodeType {

  @Override
  public String type() {
    return "test_uppercase";
  }

  @Override
  public Node create(String nodeId, JsonObject config, NodeServices services) throws FlowValidationException {
    String field = config.getString("field");
    if (field == null) {
      throw new FlowValidationException(nodeId, "node '" + nodeId + "': \"field\" is required");
    }
    return ctx -> {
      Object value = ctx.input() instanceof Map<?, ?> m ? m.get(field) : null;
      return Future.succeededFuture(
          new JsonObject().put(field, value == null ? null : value.toString().toUpperCase(Locale.ROOT)));
    };
  }
}
