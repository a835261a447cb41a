package io.flowgate.flow;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/** A blocking custom node type found through the SPI: reports the thread it ran on. */
public final class WorkerProbeTestNodeType implements NodeType {

  @Override
  public String type() {
    return "test_worker_probe";
  }

  @Override
  public Node create(String nodeId, JsonObject config, NodeServices services) {
    return new Node() {
      @Override
      public boolean blocking() {
        return true;
      }

      @Override
      public Future<Object> execute(NodeContext ctx) {
        return Future.succeededFuture(new JsonObject()
            .put("on_worker", Context.isOnWorkerThread())
            .put("on_event_loop", Context.isOnEventLoopThread())
            .put("input", ctx.input())
            .put("seen_nodes", new JsonObject(ctx.nodes()).fieldNames().stream().sorted().toList()));
      }
    };
  }
}
