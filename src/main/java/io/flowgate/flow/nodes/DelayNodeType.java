package io.flowgate.flow.nodes;

import io.flowgate.flow.FlowValidationException;
import io.flowgate.flow.Node;
import io.flowgate.flow.NodeServices;
import io.flowgate.flow.NodeType;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.Set;

/**
 * {@code delay}: waits {@code ms} milliseconds on a Vert.x timer (never blocking a thread), then passes its input
 * on; cancelling the run cancels the timer. Thread-safe.
 */
final class DelayNodeType implements NodeType {

  private static final Set<String> FIELDS = Set.of("ms");

  @Override
  public String type() {
    return "delay";
  }

  @Override
  public Node create(String nodeId, JsonObject config, NodeServices services) throws FlowValidationException {
    Configs.allowOnly(nodeId, config, FIELDS);
    long ms = Configs.nonNegativeInteger(nodeId, config, "ms", null);
    if (ms == 0) {
      return ctx -> Future.succeededFuture(ctx.input());
    }
    return ctx -> {
      Promise<Object> promise = Promise.promise();
      Vertx vertx = ctx.vertx();
      Object input = ctx.input();
      long timer = vertx.setTimer(ms, id -> promise.tryComplete(input));
      ctx.onCancel(() -> {
        vertx.cancelTimer(timer);
        promise.tryFail("delay cancelled: " + ctx.control().reason());
      });
      return promise.future();
    };
  }
}
