package io.flowgate.flow;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * DAG step overhead: whole runs of a compiled flow by {@link FlowExecutor} on a Vert.x event loop, as a sync
 * {@code server} trigger runs them in-process (no Redis, no HTTP). {@code demo} is the demo flow (api_input →
 * transform → output); {@code steps-2} is api_input → output and {@code steps-10} api_input → 8 transforms
 * {@code $} → output, so (steps-10 − steps-2) / 8 is the cost of one more step. Each invocation runs
 * {@value #BATCH} flows one after another on the event loop and waits once, so the hand-over from the JMH thread is
 * spread over them; the score is per run.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class FlowExecutorBenchmark {
  static final int BATCH = 100;

  @Param({"demo", "steps-2", "steps-10"})
  public String flow;

  private Vertx vertx;
  private Context context;
  private FlowExecutor executor;
  private FlowPlan plan;
  private final UUID profile = UUID.randomUUID();

  @Setup(Level.Trial)
  public void setUp() throws FlowValidationException {
    vertx = Vertx.vertx();
    NodeServices services = new NodeServices(vertx, vertx.createHttpClient(), FlowLimits.defaults());
    executor = new FlowExecutor(services);
    plan = FlowPlan.compile(definition(flow), NodeTypes.load(services));
    context = vertx.getOrCreateContext();
    FlowResult check = runBatch(1).join();
    if (check.outcome() != FlowOutcome.COMPLETED) {
      throw new IllegalStateException("the " + flow + " flow did not complete: " + check.error());
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    vertx.close().await();
  }

  private static FlowDefinition definition(String flow) throws FlowValidationException {
    if (flow.equals("demo")) {
      return DemoFlow.definition();
    }
    int transforms = flow.equals("steps-2") ? 0 : 8;
    JsonArray nodes = new JsonArray().add(node("input", "api_input", new JsonObject()));
    JsonArray edges = new JsonArray();
    String previous = "input";
    for (int i = 1; i <= transforms; i++) {
      nodes.add(node("t" + i, "transform", new JsonObject().put("expression", "$")));
      edges.add(new JsonObject().put("from", previous).put("to", "t" + i));
      previous = "t" + i;
    }
    nodes.add(node("output", "output", new JsonObject()));
    edges.add(new JsonObject().put("from", previous).put("to", "output"));
    return FlowDefinition.fromJson(new JsonObject().put("name", flow).put("nodes", nodes).put("edges", edges));
  }

  private static JsonObject node(String id, String type, JsonObject config) {
    return new JsonObject().put("id", id).put("type", type).put("config", config);
  }

  private CompletableFuture<FlowResult> runBatch(int n) {
    CompletableFuture<FlowResult> done = new CompletableFuture<>();
    context.runOnContext(v -> next(n, done));
    return done;
  }

  private void next(int left, CompletableFuture<FlowResult> done) {
    Future<FlowResult> run = executor.execute(plan, DemoFlow.INPUT, null, profile);
    run.onComplete(ar -> {
      if (ar.failed()) {
        done.completeExceptionally(ar.cause());
      } else if (left <= 1) {
        done.complete(ar.result());
      } else {
        next(left - 1, done);
      }
    });
  }

  /** {@value #BATCH} runs of the flow, one after another on the event loop; the score is per run. */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public FlowResult run() {
    return runBatch(BATCH).join();
  }
}
