package io.flowgate.flow;

import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * The state machine of one run of a {@link FlowPlan}: which nodes wait, run, completed or were skipped, their
 * outputs and timings. A node starts once all its predecessors have settled; nodes become ready into a queue that
 * one loop drains, so synchronous nodes chain without recursion. Confined to the run's context: every method runs
 * there.
 */
final class RunState {

  private static final byte PENDING = 0;
  private static final byte RUNNING = 1;
  private static final byte COMPLETED = 2;
  private static final byte FAILED = 3;
  private static final byte SKIPPED = 4;
  private static final byte CANCELLED = 5;
  private static final String[] STATUS = {"pending", "running", "completed", "failed", "skipped", "cancelled"};

  private final FlowPlan plan;
  private final Context context;
  private final JsonObject inputData;
  private final Map<String, Object> inputPlain;
  private final RunControl control;
  private final UUID profileId;
  /** What nodes see: cancelled by the caller's cancel and by a failure of another node. */
  private final RunControl abort = new RunControl();
  private final Promise<FlowResult> promise = Promise.promise();
  private final int size;
  private final byte[] state;
  private final Object[] outputs;
  private final boolean[] branch;
  private final long[] started;
  private final long[] nanos;
  private final int[] waiting;
  private final int[] delivered;
  /** Ready positions; a skipped node is queued as {@code ~position}. Each node is queued exactly once. */
  private final int[] queue;
  /** Completed nodes' ids and outputs in completion order: append-only, read through {@link NodesView}s. */
  private final String[] doneIds;
  private final Object[] doneOutputs;
  private int doneCount;
  private int head;
  private int tail;
  private int settled;
  private boolean draining;
  private boolean done;
  private String errorNode;
  private String errorMessage;

  RunState(FlowPlan plan, Context context, JsonObject inputData, RunControl control, UUID profileId) {
    this.plan = plan;
    this.context = context;
    this.inputData = inputData;
    @SuppressWarnings("unchecked")
    Map<String, Object> plain = (Map<String, Object>) JsonValues.plain(inputData.getMap(), true);
    this.inputPlain = plain;
    this.control = control;
    this.profileId = profileId;
    this.size = plan.size();
    this.state = new byte[size];
    this.outputs = new Object[size];
    this.branch = new boolean[size];
    this.started = new long[size];
    this.nanos = new long[size];
    this.waiting = new int[size];
    this.delivered = new int[size];
    this.queue = new int[size];
    this.doneIds = new String[size];
    this.doneOutputs = new Object[size];
    for (int p = 0; p < size; p++) {
      waiting[p] = plan.preds[p].length;
    }
  }

  Future<FlowResult> start() {
    if (control.isCancelled()) {
      finish(FlowOutcome.CANCELLED);
      return promise.future();
    }
    control.onCancel(() -> context.runOnContext(v -> {
      if (!done) {
        finish(FlowOutcome.CANCELLED);
      }
    }));
    queue[tail++] = 0;
    drain();
    return promise.future();
  }

  private void drain() {
    if (draining) {
      return;
    }
    draining = true;
    try {
      while (!done && head < tail) {
        if (control.isCancelled()) {
          finish(FlowOutcome.CANCELLED);
          return;
        }
        int item = queue[head++];
        if (item >= 0) {
          launch(item);
        } else {
          skip(~item);
        }
      }
    } finally {
      draining = false;
    }
  }

  private void launch(int p) {
    state[p] = RUNNING;
    Node node = plan.nodes[p];
    boolean blocking = plan.blocking[p];
    NodeContext ctx = new NodeContext(plan.ids[p], inputOf(p), inputData, inputPlain,
        new NodesView(doneIds, doneOutputs, doneCount), abort, context, profileId);
    started[p] = System.nanoTime();
    Future<Object> result;
    try {
      if (blocking) {
        result = context.executeBlocking(() -> node.execute(ctx), false).compose(RunState::orNoFuture);
      } else {
        result = orNoFuture(node.execute(ctx));
      }
    } catch (RuntimeException | StackOverflowError e) {
      result = Future.failedFuture(e);
    }
    if (result.isComplete()) {
      settle(p, result);
    } else {
      result.onComplete(ar -> resume(p, ar));
    }
  }

  private void resume(int p, AsyncResult<Object> ar) {
    if (Vertx.currentContext() == context) {
      settle(p, ar);
      drain();
    } else {
      context.runOnContext(v -> {
        settle(p, ar);
        drain();
      });
    }
  }

  private void settle(int p, AsyncResult<Object> ar) {
    if (done || state[p] != RUNNING) {
      return;
    }
    nanos[p] = System.nanoTime() - started[p];
    if (ar.failed()) {
      fail(p, messageOf(ar.cause()));
      return;
    }
    Object out = ar.result();
    boolean taken = false;
    if (out instanceof ConditionResult c) {
      taken = c.value();
      out = c.output();
    }
    try {
      out = JsonValues.plain(out, false);
    } catch (IllegalArgumentException e) {
      fail(p, "node returned a value that is " + e.getMessage());
      return;
    }
    outputs[p] = out;
    branch[p] = taken;
    state[p] = COMPLETED;
    doneIds[doneCount] = plan.ids[p];
    doneOutputs[doneCount] = out;
    doneCount++;
    settled++;
    release(p, true);
    if (settled == size) {
      finish(FlowOutcome.COMPLETED);
    }
  }

  private void skip(int p) {
    state[p] = SKIPPED;
    settled++;
    release(p, false);
    if (settled == size) {
      finish(FlowOutcome.COMPLETED);
    }
  }

  /** Tells {@code p}'s successors it settled; one whose predecessors have all settled is queued. */
  private void release(int p, boolean ran) {
    int[] succs = plan.succs[p];
    byte[] when = plan.succWhen[p];
    for (int k = 0; k < succs.length; k++) {
      int s = succs[k];
      if (ran && follows(when[k], branch[p])) {
        delivered[s]++;
      }
      if (--waiting[s] == 0) {
        queue[tail++] = delivered[s] > 0 ? s : ~s;
      }
    }
  }

  private static boolean follows(byte when, boolean taken) {
    return when == FlowPlan.ALWAYS || (when == FlowPlan.WHEN_TRUE) == taken;
  }

  /** {@code $}: the single predecessor's output, or the delivered predecessors' outputs keyed by id. */
  private Object inputOf(int p) {
    int[] preds = plan.preds[p];
    if (preds.length == 0) {
      return inputPlain;
    }
    if (preds.length == 1) {
      return outputs[preds[0]];
    }
    Map<String, Object> byId = new LinkedHashMap<>(preds.length * 2);
    for (int q : preds) {
      if (state[q] == COMPLETED && deliveredTo(q, p)) {
        byId.put(plan.ids[q], outputs[q]);
      }
    }
    return byId;
  }

  private boolean deliveredTo(int q, int p) {
    int[] succs = plan.succs[q];
    for (int k = 0; k < succs.length; k++) {
      if (succs[k] == p) {
        return follows(plan.succWhen[q][k], branch[q]);
      }
    }
    return false;
  }

  private void fail(int p, String message) {
    state[p] = FAILED;
    errorNode = plan.ids[p];
    errorMessage = message;
    finish(FlowOutcome.FAILED);
  }

  private void finish(FlowOutcome outcome) {
    if (done) {
      return;
    }
    done = true;
    if (outcome != FlowOutcome.COMPLETED) {
      long now = System.nanoTime();
      for (int p = 0; p < size; p++) {
        if (state[p] == RUNNING) {
          state[p] = CANCELLED;
          nanos[p] = now - started[p];
        }
      }
      abort.cancel(outcome == FlowOutcome.FAILED ? "run failed at node '" + errorNode + "'" : control.reason());
    }
    promise.complete(result(outcome));
  }

  private FlowResult result(FlowOutcome outcome) {
    JsonObject nodeOutputs = new JsonObject(new LinkedHashMap<>(size * 2));
    for (int p = 0; p < size; p++) {
      byte s = state[p];
      if (s == PENDING) {
        continue;
      }
      JsonObject entry = new JsonObject(new LinkedHashMap<>(8)).put("status", STATUS[s]);
      if (s == COMPLETED) {
        entry.put("output", JsonValues.toJson(outputs[p]));
      } else if (s == FAILED) {
        entry.put("error", errorMessage);
      }
      entry.put("duration_ms", Math.round(nanos[p] / 1_000.0) / 1_000.0);
      nodeOutputs.put(plan.ids[p], entry);
    }
    JsonObject outputData;
    int o = plan.outputPosition;
    if (state[o] != COMPLETED) {
      outputData = new JsonObject();
    } else if (outputs[o] instanceof Map<?, ?>) {
      outputData = (JsonObject) JsonValues.toJson(outputs[o]);
    } else {
      outputData = new JsonObject().put("value", JsonValues.toJson(outputs[o]));
    }
    JsonObject error = outcome == FlowOutcome.FAILED
        ? new JsonObject().put("node_id", errorNode).put("message", errorMessage)
        : null;
    return new FlowResult(outcome, outputData, nodeOutputs, error);
  }

  private static Future<Object> orNoFuture(Future<Object> f) {
    return f != null ? f : Future.failedFuture("node returned no Future");
  }

  private static String messageOf(Throwable t) {
    String message = t.getMessage();
    return message == null || message.isBlank() ? t.getClass().getSimpleName() : message;
  }
}
