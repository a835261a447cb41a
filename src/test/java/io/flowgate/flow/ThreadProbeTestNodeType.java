package io.flowgate.flow;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/** A non-blocking custom node type found through the SPI: reports the thread (event loop) it ran on. */
public final class ThreadProbeTestNodeType implements NodeType {

  @Override
  public String type() {
    return "test_thread_probe";
  }

  @Override
  public Node create(String nodeId, JsonObject config, NodeServices services) {
    return ctx -> Future.succeededFuture(new JsonObject().put("thread", Thread.currentThread().getName()));
  }
}
