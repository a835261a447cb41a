package io.flowgate.flow;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.Objects;
import java.util.UUID;

/**
 * Runs compiled flows (DESIGN §2.2). A node starts as soon as all its predecessors have settled, so independent
 * branches run concurrently. Semantics:
 * <ul>
 *   <li>Non-blocking nodes run on the caller's context; a node with {@link Node#blocking()} runs through
 *       {@code executeBlocking(..., false)} on a worker thread and its result comes back on the context.</li>
 *   <li>A {@code condition} node's outgoing edges are followed when their {@code when} equals its outcome. A node
 *       runs if at least one predecessor delivered to it (completed, over a followed edge); a node none of whose
 *       predecessors delivered is {@code skipped}, which may skip its successors in turn. With several
 *       predecessors, {@code $} holds only those that delivered.</li>
 *   <li>A failing node fails the run at once: outcome FAILED, {@code error} names it, nodes in flight are marked
 *       {@code cancelled} (their timers and HTTP requests are stopped), nodes not yet started are absent from
 *       {@code nodeOutputs}.</li>
 *   <li>Cancelling the {@link RunControl} ends the run CANCELLED at once, nodes in flight marked {@code cancelled},
 *       nodes not yet started absent. A blocking node already on a worker thread runs to its end; its result is
 *       dropped.</li>
 *   <li>A run whose output node was skipped completes with an empty {@code outputData}.</li>
 * </ul>
 * Thread-safe; one instance serves every run. Each run is confined to the context it was started on.
 */
public final class FlowExecutor {

  private final NodeServices services;

  /** An executor whose off-context calls run on a context of {@code services.vertx()}. */
  public FlowExecutor(NodeServices services) {
    this.services = Objects.requireNonNull(services, "services");
  }

  /**
   * Runs {@code plan} on {@code inputData} (null means {@code {}}; not copied: do not mutate it during the run).
   * Call it on a Vert.x context (event loop); the Future completes on that context. Called elsewhere, the run
   * takes a context of the executor's Vert.x instance.
   *
   * @param control the run's cancellation handle; null for a run that cannot be cancelled
   * @return never failed for flow errors: those are a {@link FlowResult} with outcome FAILED
   */
  public Future<FlowResult> execute(FlowPlan plan, JsonObject inputData, RunControl control) {
    return execute(plan, inputData, control, null);
  }

  /**
   * As {@link #execute(FlowPlan, JsonObject, RunControl)} for a run of profile {@code profileId}, which its nodes see
   * as {@link NodeContext#profileId()} (null: a run of no profile, whose nodes cannot reach profile-scoped
   * resources).
   */
  public Future<FlowResult> execute(FlowPlan plan, JsonObject inputData, RunControl control, UUID profileId) {
    Objects.requireNonNull(plan, "plan");
    JsonObject input = inputData == null ? new JsonObject() : inputData;
    RunControl ctl = control == null ? new RunControl() : control;
    Context context = Vertx.currentContext();
    if (context != null) {
      return start(plan, context, input, ctl, profileId);
    }
    Context target = services.vertx().getOrCreateContext();
    Promise<FlowResult> promise = Promise.promise();
    target.runOnContext(v -> start(plan, target, input, ctl, profileId).onComplete(promise));
    return promise.future();
  }

  private static Future<FlowResult> start(FlowPlan plan, Context context, JsonObject input, RunControl control,
      UUID profileId) {
    try {
      return new RunState(plan, context, input, control, profileId).start();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }
}
