package io.flowgate.flow;

import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * JSONata evaluation of the demo flow's transform ({@code {"greeting": "Hello, " & $.name & "!", "length":
 * $length($.name)}}) as its node runs it: {@link Expression#evaluate(NodeContext)} with the run's bindings and
 * bounds, result normalised to plain JSON. One benchmark thread; JMH's own thread, not an event loop.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ExpressionBenchmark {
  private Expression transform;
  private NodeContext context;

  @Setup
  public void setUp() throws FlowValidationException {
    transform = Expression.compile("greet", null, DemoFlow.transformExpression(), FlowLimits.defaults());
    Map<String, Object> input = DemoFlow.INPUT.getMap();
    context = new NodeContext("greet", input, DemoFlow.INPUT, input, Map.of("input", input), new RunControl(), null);
  }

  /** The demo transform, evaluated once. */
  @Benchmark
  public Object demoTransform() {
    return transform.evaluate(context);
  }
}
