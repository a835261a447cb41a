package io.flowgate.flow;

import io.vertx.core.Future;

/**
 * One compiled node of a {@link FlowPlan}: shared by every run of the plan, so it must be immutable and thread-safe.
 * {@link #execute} runs on the run's Vert.x context (event loop) and must not block there; a node that declares
 * {@link #blocking()} runs on a worker thread instead.
 */
public interface Node {

  /** Whether {@link #execute} blocks or burns CPU; if so the executor runs it with {@code executeBlocking}. */
  default boolean blocking() {
    return false;
  }

  /**
   * Runs the node once. The returned value becomes the node's output: a JSON value (Map/List or
   * JsonObject/JsonArray, String, Number, Boolean or null; integral doubles are shown as integers). A failed Future
   * or a thrown exception fails the node (and the run) with the exception's message.
   */
  Future<Object> execute(NodeContext ctx);
}
