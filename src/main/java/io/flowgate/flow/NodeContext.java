package io.flowgate.flow;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.UUID;

/**
 * What one node execution sees: its input ({@code $}), the run's {@code input_data} ({@code $input}), the outputs
 * of the nodes completed so far ({@code $nodes}), the run's cancellation handle, the profile the run belongs to and
 * Vert.x. Made by the executor for one node execution; read it on the thread that runs the node (the run's context,
 * or a worker thread for a blocking node).
 */
public final class NodeContext {

  private final String nodeId;
  private final Object input;
  private final JsonObject inputData;
  private final Map<String, Object> inputDataPlain;
  private final Map<String, Object> nodes;
  private final RunControl control;
  private final Context context;
  private final UUID profileId;

  NodeContext(String nodeId, Object input, JsonObject inputData, Map<String, Object> inputDataPlain,
      Map<String, Object> nodes, RunControl control, Context context) {
    this(nodeId, input, inputData, inputDataPlain, nodes, control, context, null);
  }

  NodeContext(String nodeId, Object input, JsonObject inputData, Map<String, Object> inputDataPlain,
      Map<String, Object> nodes, RunControl control, Context context, UUID profileId) {
    this.nodeId = nodeId;
    this.input = input;
    this.inputData = inputData;
    this.inputDataPlain = inputDataPlain;
    this.nodes = nodes;
    this.control = control;
    this.context = context;
    this.profileId = profileId;
  }

  /** The id of the node being executed. */
  public String nodeId() {
    return nodeId;
  }

  /**
   * The node's input ({@code $}) as a plain JSON value (Map, List, String, Number, Boolean or null): the single
   * predecessor's output, or, when the node has several predecessors, a Map keyed by the ids of those that
   * delivered (a skipped predecessor or an untaken condition branch is absent). For {@code api_input} it is the
   * run's {@code input_data}. Read-only.
   */
  public Object input() {
    return input;
  }

  /** The run's {@code input_data}. Read-only: it is shared by every node of the run. */
  public JsonObject inputData() {
    return inputData;
  }

  /**
   * The outputs of the nodes completed before this one started, keyed by node id, as plain JSON values. A read-only
   * snapshot: it does not change while the node runs.
   */
  public Map<String, Object> nodes() {
    return nodes;
  }

  /**
   * The run's cancellation handle: cancelled when the caller cancels the run and also when another node fails the
   * run. A long blocking node should poll {@link RunControl#isCancelled()}.
   */
  public RunControl control() {
    return control;
  }

  /**
   * The profile the run belongs to (its deployment's), or null for a run started without one (e.g. by a test).
   * Node types that reach profile-scoped resources, such as {@code inference}, act on this profile's only.
   */
  public UUID profileId() {
    return profileId;
  }

  /** The Vert.x instance. */
  public Vertx vertx() {
    return context.owner();
  }

  /**
   * Registers {@code action} to run on the run's context when the run is cancelled or aborted by another node's
   * failure (e.g. to cancel a timer or reset a request); runs it soon (on that context) if that already happened.
   */
  public void onCancel(Runnable action) {
    control.onCancel(() -> context.runOnContext(v -> action.run()));
  }

  Map<String, Object> inputDataPlain() {
    return inputDataPlain;
  }

  Map<String, Object> nodesRaw() {
    return nodes;
  }
}
