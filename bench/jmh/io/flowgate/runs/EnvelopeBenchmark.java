package io.flowgate.runs;

import io.flowgate.deployments.DeploymentType;
import io.flowgate.flow.DemoFlow;
import io.flowgate.flow.FlowExecutor;
import io.flowgate.flow.FlowLimits;
import io.flowgate.flow.FlowPlan;
import io.flowgate.flow.FlowResult;
import io.flowgate.flow.NodeServices;
import io.flowgate.flow.NodeTypes;
import io.flowgate.http.Responses;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Serialisation of the sync 200 answer of the demo deployment: the ended {@link Run} (built as
 * {@code RunService.runInProcess} builds it, from a real run of the demo flow) to its wire form, encoded once, and
 * spliced into the success envelope by {@link Responses#envelope(Buffer)} — the bytes the gateway writes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class EnvelopeBenchmark {
  private Run run;
  private Buffer wire;

  @Setup
  public void setUp() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      NodeServices services = new NodeServices(vertx, vertx.createHttpClient(), FlowLimits.defaults());
      FlowPlan plan = FlowPlan.compile(DemoFlow.definition(), NodeTypes.load(services));
      FlowResult result = new FlowExecutor(services).execute(plan, DemoFlow.INPUT, null).await(10, TimeUnit.SECONDS);
      Instant created = Instant.now();
      run = new Run(UUID.randomUUID().toString(), UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID(), 1, "sync",
          DeploymentType.SERVER.wire(), RunStatus.COMPLETED, created, created, created.plusNanos(420_000),
          result.outputData(), result.nodeOutputs(), null, null);
      wire = run.toWire().toBuffer();
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  /** Run → wire JSON → bytes → envelope: what a sync server trigger does per request. */
  @Benchmark
  public Buffer syncAnswer() {
    return Responses.envelope(run.toWire().toBuffer());
  }

  /** The splice alone, from the stored wire bytes (what a replay or a poll of an ended run costs). */
  @Benchmark
  public Buffer envelopeOnly() {
    return Responses.envelope(wire);
  }

  /** The wire form as a JsonObject, not encoded. */
  @Benchmark
  public JsonObject wireObject() {
    return run.toWire();
  }
}
