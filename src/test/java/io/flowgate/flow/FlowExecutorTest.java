package io.flowgate.flow;

import static io.flowgate.flow.FlowFixtures.chain;
import static io.flowgate.flow.FlowFixtures.compile;
import static io.flowgate.flow.FlowFixtures.edge;
import static io.flowgate.flow.FlowFixtures.flow;
import static io.flowgate.flow.FlowFixtures.node;
import static io.flowgate.flow.FlowFixtures.run;
import static io.flowgate.flow.FlowFixtures.transform;
import static io.flowgate.flow.FlowFixtures.transformFlow;
import static io.flowgate.flow.FlowFixtures.verify;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
@Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
class FlowExecutorTest {

  private NodeServices services;
  private NodeTypes types;
  private FlowExecutor executor;

  @BeforeEach
  void setUp(Vertx vertx) {
    services = FlowFixtures.services(vertx);
    types = NodeTypes.load(services);
    executor = new FlowExecutor(services);
  }

  private static JsonArray nodes(JsonObject... nodes) {
    JsonArray a = new JsonArray();
    for (JsonObject n : nodes) {
      a.add(n);
    }
    return a;
  }

  private static JsonObject condition(String id, String expression) {
    return node(id, "condition", new JsonObject().put("expression", expression));
  }

  private static JsonObject delay(String id, long ms) {
    return node(id, "delay", new JsonObject().put("ms", ms));
  }

  private static String status(FlowResult r, String nodeId) {
    JsonObject entry = r.nodeOutputs().getJsonObject(nodeId);
    return entry == null ? null : entry.getString("status");
  }

  @Test
  void runs_a_trivial_flow_and_reports_every_node(Vertx vertx, VertxTestContext tc) throws Exception {
    FlowPlan plan = compile(types, transformFlow("{'greeting': 'hi ' & name}"));
    verify(tc, run(vertx, executor, plan, new JsonObject().put("name", "ada"), new RunControl()), r -> {
      assertThat(r.outcome()).isEqualTo(FlowOutcome.COMPLETED);
      assertThat(r.error()).isNull();
      assertThat(r.outputData()).isEqualTo(new JsonObject().put("greeting", "hi ada"));
      assertThat(r.nodeOutputs().fieldNames()).containsExactly("input", "shape", "output");
      JsonObject shape = r.nodeOutputs().getJsonObject("shape");
      assertThat(shape.getString("status")).isEqualTo("completed");
      assertThat(shape.getJsonObject("output")).isEqualTo(new JsonObject().put("greeting", "hi ada"));
      assertThat(shape.getValue("duration_ms")).isInstanceOf(Double.class);
      assertThat(shape.getDouble("duration_ms")).isGreaterThanOrEqualTo(0.0);
      assertThat(r.nodeOutputs().getJsonObject("input").getJsonObject("output"))
          .isEqualTo(new JsonObject().put("name", "ada"));
    });
  }

  @Test
  void completes_on_the_calling_context(Vertx vertx, VertxTestContext tc) throws Exception {
    FlowPlan plan = compile(types, flow(nodes(node("input", "api_input"), delay("wait", 5),
        node("output", "output")), chain("input", "wait", "output")));
    Context context = vertx.getOrCreateContext();
    context.runOnContext(v -> executor.execute(plan, new JsonObject(), new RunControl())
        .onComplete(tc.succeeding(r -> tc.verify(() -> {
          assertThat(Vertx.currentContext()).isSameAs(context);
          assertThat(r.outcome()).isEqualTo(FlowOutcome.COMPLETED);
          tc.completeNow();
        }))));
  }

  @Test
  void runs_when_called_off_any_context(VertxTestContext tc) throws Exception {
    FlowPlan plan = compile(types, transformFlow("a + 1"));
    executor.execute(plan, new JsonObject().put("a", 1), null).onComplete(tc.succeeding(r -> tc.verify(() -> {
      assertThat(r.outputData()).isEqualTo(new JsonObject().put("value", 2));
      tc.completeNow();
    })));
  }

  @Test
  void binds_dollar_input_and_nodes_in_expressions(Vertx vertx, VertxTestContext tc) throws Exception {
    JsonObject flow = flow(nodes(node("input", "api_input"), transform("a", "{'x': v * 2}"),
        transform("b", "{'dollar': x, 'input': $input.v, 'nodes': $nodes.a.x, 'first': $nodes.input.v}"),
        node("output", "output")), chain("input", "a", "b", "output"));
    FlowPlan plan = compile(types, flow);
    verify(tc, run(vertx, executor, plan, new JsonObject().put("v", 21), new RunControl()), r ->
        assertThat(r.outputData()).isEqualTo(new JsonObject("{\"dollar\":42,\"input\":21,\"nodes\":42,\"first\":21}")));
  }

  @Test
  void gives_a_node_with_several_predecessors_an_object_keyed_by_their_ids(Vertx vertx, VertxTestContext tc)
      throws Exception {
    JsonObject flow = flow(nodes(node("input", "api_input"), transform("left", "v + 1"), transform("right", "v * 10"),
        transform("join", "{'sum': $.left + $.right, 'keys': $keys($)}"), node("output", "output")),
        chain("input", "left", "join", "output").add(edge("input", "right")).add(edge("right", "join")));
    FlowPlan plan = compile(types, flow);
    verify(tc, run(vertx, executor, plan, new JsonObject().put("v", 2), new RunControl()), r ->
        assertThat(r.outputData()).isEqualTo(new JsonObject("{\"sum\":23,\"keys\":[\"left\",\"right\"]}")));
  }

  @Test
  void output_without_expression_with_several_predecessors_outputs_them_keyed(Vertx vertx, VertxTestContext tc)
      throws Exception {
    JsonObject flow = flow(nodes(node("input", "api_input"), transform("a", "1"), transform("b", "'two'"),
        node("output", "output")),
        new JsonArray().add(edge("input", "a")).add(edge("input", "b")).add(edge("a", "output"))
            .add(edge("b", "output")));
    FlowPlan plan = compile(types, flow);
    verify(tc, run(vertx, executor, plan, new JsonObject(), new RunControl()), r ->
        assertThat(r.outputData()).isEqualTo(new JsonObject().put("a", 1).put("b", "two")));
  }

  private JsonObject branchingFlow(String test) {
    // input -> check -(true)-> yes -> merge -> output ; check -(false)-> no1 -> no2 -> merge
    return flow(nodes(node("input", "api_input"), condition("check", test), transform("yes", "{'path': 'yes'}"),
        transform("no1", "{'path': 'no'}"), transform("no2", "$"),
        transform("merge", "{'got': [$keys($)], 'path': ($.yes ? $.yes : $.no2).path}"), node("output", "output")),
        new JsonArray().add(edge("input", "check")).add(edge("check", "yes", true)).add(edge("check", "no1", false))
            .add(edge("no1", "no2")).add(edge("yes", "merge")).add(edge("no2", "merge")).add(edge("merge", "output")));
  }

  @Test
  void follows_the_true_branch_and_skips_the_other(Vertx vertx, VertxTestContext tc) throws Exception {
    FlowPlan plan = compile(types, branchingFlow("score > 5"));
    verify(tc, run(vertx, executor, plan, new JsonObject().put("score", 9), new RunControl()), r -> {
      assertThat(r.outcome()).isEqualTo(FlowOutcome.COMPLETED);
      assertThat(status(r, "check")).isEqualTo("completed");
      assertThat(r.nodeOutputs().getJsonObject("check").getJsonObject("output"))
          .isEqualTo(new JsonObject().put("score", 9));
      assertThat(status(r, "yes")).isEqualTo("completed");
      assertThat(status(r, "no1")).isEqualTo("skipped");
      assertThat(status(r, "no2")).isEqualTo("skipped");
      assertThat(r.nodeOutputs().getJsonObject("no2").containsKey("output")).isFalse();
      assertThat(r.outputData()).isEqualTo(new JsonObject("{\"got\":[\"yes\"],\"path\":\"yes\"}"));
    });
  }

  @Test
  void follows_the_false_branch_and_skips_the_other(Vertx vertx, VertxTestContext tc) throws Exception {
    FlowPlan plan = compile(types, branchingFlow("score > 5"));
    verify(tc, run(vertx, executor, plan, new JsonObject().put("score", 1), new RunControl()), r -> {
      assertThat(status(r, "yes")).isEqualTo("skipped");
      assertThat(status(r, "no1")).isEqualTo("completed");
      assertThat(status(r, "no2")).isEqualTo("completed");
      assertThat(r.outputData()).isEqualTo(new JsonObject("{\"got\":[\"no2\"],\"path\":\"no\"}"));
    });
  }

  @Test
  void completes_with_empty_output_when_the_output_is_on_an_untaken_branch(Vertx vertx, VertxTestContext tc)
      throws Exception {
    JsonObject flow = flow(nodes(node("input", "api_input"), condition("check", "go"), node("output", "output")),
        new JsonArray().add(edge("input", "check")).add(edge("check", "output", true)));
    FlowPlan plan = compile(types, flow);
    verify(tc, run(vertx, executor, plan, new JsonObject().put("go", false), new RunControl()), r -> {
      assertThat(r.outcome()).isEqualTo(FlowOutcome.COMPLETED);
      assertThat(status(r, "output")).isEqualTo("skipped");
      assertThat(r.outputData()).isEqualTo(new JsonObject());
    });
  }

  @Test
  void fails_the_run_with_the_message_given_to_error(Vertx vertx, VertxTestContext tc) throws Exception {
    FlowPlan plan = compile(types, transformFlow("$error('boom')"));
    verify(tc, run(vertx, executor, plan, new JsonObject(), new RunControl()), r -> {
      assertThat(r.outcome()).isEqualTo(FlowOutcome.FAILED);
      assertThat(r.error()).isEqualTo(new JsonObject().put("node_id", "shape").put("message", "boom"));
      assertThat(status(r, "input")).isEqualTo("completed");
      assertThat(status(r, "shape")).isEqualTo("failed");
      assertThat(r.nodeOutputs().getJsonObject("shape").getString("error")).isEqualTo("boom");
      assertThat(r.nodeOutputs().containsKey("output")).isFalse();
      assertThat(r.outputData()).isEqualTo(new JsonObject());
    });
  }

  @Test
  void stops_runaway_tail_recursion_with_a_failure(Vertx vertx, VertxTestContext tc) throws Exception {
    NodeServices tight = new NodeServices(vertx, null,
        new FlowLimits(Duration.ofMillis(100), 50, Duration.ofSeconds(1), 1024));
    FlowPlan plan = compile(NodeTypes.load(tight), transformFlow("($f := function($x){ $f($x+1) }; $f(0))"));
    verify(tc, run(vertx, new FlowExecutor(tight), plan, new JsonObject(), new RunControl()), r -> {
      assertThat(r.outcome()).isEqualTo(FlowOutcome.FAILED);
      assertThat(r.error().getString("node_id")).isEqualTo("shape");
      assertThat(r.error().getString("message"))
          .isEqualTo("expression evaluation timed out after 100 ms (infinite loop?)");
    });
  }

  @Test
  void stops_runaway_deep_recursion_with_a_failure_not_a_stack_overflow(Vertx vertx, VertxTestContext tc)
      throws Exception {
    FlowPlan plan = compile(types, transformFlow("($f := function($x){ $f($x+1) + 1 }; $f(0))"));
    verify(tc, run(vertx, executor, plan, new JsonObject(), new RunControl()), r -> {
      assertThat(r.outcome()).isEqualTo(FlowOutcome.FAILED);
      assertThat(r.error().getString("message"))
          .isEqualTo("expression exceeded the maximum recursion depth of 100 (non-terminating recursive function?)");
    });
  }

  @Test
  void wraps_a_non_object_output_as_value(Vertx vertx, VertxTestContext tc) throws Exception {
    FlowPlan plan = compile(types, flow(nodes(node("input", "api_input"),
        node("output", "output", new JsonObject().put("expression", "[1, 2.0, 'x']"))), chain("input", "output")));
    verify(tc, run(vertx, executor, plan, new JsonObject(), new RunControl()), r ->
        assertThat(r.outputData().encode()).isEqualTo("{\"value\":[1,2,\"x\"]}"));
  }

  @Test
  void renders_integral_numbers_without_a_fraction(Vertx vertx, VertxTestContext tc) throws Exception {
    FlowPlan plan = compile(types,
        transformFlow("{'half': n / 2, 'sum': $sum([0.5, 1.5]), 'frac': n / 4, 'avg': $average([1, 3])}"));
    verify(tc, run(vertx, executor, plan, new JsonObject().put("n", 10), new RunControl()), r -> {
      assertThat(r.outputData().encode()).isEqualTo("{\"half\":5,\"sum\":2,\"frac\":2.5,\"avg\":2}");
      assertThat(r.nodeOutputs().getJsonObject("shape").getJsonObject("output").encode())
          .isEqualTo("{\"half\":5,\"sum\":2,\"frac\":2.5,\"avg\":2}");
    });
  }

  @Test
  void runs_independent_delay_branches_concurrently(Vertx vertx, VertxTestContext tc) throws Exception {
    // Each branch stamps the time before and after its delay: sequential branches would stamp one branch's end
    // before the other's start; concurrent ones start both before either ends.
    JsonObject flow = flow(nodes(node("input", "api_input"), transform("s1", "$millis()"), delay("d1", 300),
        transform("e1", "$millis()"), transform("s2", "$millis()"), delay("d2", 300), transform("e2", "$millis()"),
        node("output", "output", new JsonObject().put("expression", "$nodes"))),
        chain("input", "s1", "d1", "e1", "output").add(edge("input", "s2")).add(edge("s2", "d2"))
            .add(edge("d2", "e2")).add(edge("e2", "output")));
    FlowPlan plan = compile(types, flow);
    verify(tc, run(vertx, executor, plan, new JsonObject(), new RunControl()), r -> {
      assertThat(r.outcome()).isEqualTo(FlowOutcome.COMPLETED);
      JsonObject stamps = r.outputData();
      long lastStart = Math.max(stamps.getLong("s1"), stamps.getLong("s2"));
      long firstEnd = Math.min(stamps.getLong("e1"), stamps.getLong("e2"));
      assertThat(lastStart).isLessThan(firstEnd);
      assertThat(r.nodeOutputs().getJsonObject("d1").getDouble("duration_ms")).isGreaterThanOrEqualTo(299.0);
    });
  }

  @Test
  void delay_leaves_the_event_loop_free(Vertx vertx, VertxTestContext tc) throws Exception {
    FlowPlan plan = compile(types, flow(nodes(node("input", "api_input"), delay("wait", 300),
        node("output", "output")), chain("input", "wait", "output")));
    Context context = vertx.getOrCreateContext();
    AtomicBoolean otherWorkRan = new AtomicBoolean();
    context.runOnContext(v -> {
      executor.execute(plan, new JsonObject(), new RunControl())
          .onComplete(tc.succeeding(r -> tc.verify(() -> {
            assertThat(otherWorkRan).isTrue();
            tc.completeNow();
          })));
      // Same context, same thread: this only runs while the delay is pending if the delay does not block it.
      vertx.setTimer(20, id -> otherWorkRan.set(true));
    });
  }

  @Test
  void cancelling_mid_delay_ends_the_run_cancelled_quickly(Vertx vertx, VertxTestContext tc) throws Exception {
    FlowPlan plan = compile(types, flow(nodes(node("input", "api_input"), delay("wait", 60_000),
        node("output", "output")), chain("input", "wait", "output")));
    RunControl control = new RunControl();
    long start = System.nanoTime();
    vertx.setTimer(50, id -> control.cancel("user asked"));
    verify(tc, run(vertx, executor, plan, new JsonObject(), control), r -> {
      assertThat(r.outcome()).isEqualTo(FlowOutcome.CANCELLED);
      assertThat(status(r, "input")).isEqualTo("completed");
      assertThat(status(r, "wait")).isEqualTo("cancelled");
      assertThat(r.nodeOutputs().containsKey("output")).isFalse();
      assertThat(r.error()).isNull();
      assertThat(control.reason()).isEqualTo("user asked");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    });
  }

  @Test
  void a_run_cancelled_before_it_starts_runs_nothing(Vertx vertx, VertxTestContext tc) throws Exception {
    FlowPlan plan = compile(types, transformFlow("$"));
    RunControl control = new RunControl();
    assertThat(control.cancel("too late")).isTrue();
    assertThat(control.cancel("again")).isFalse();
    verify(tc, run(vertx, executor, plan, new JsonObject(), control), r -> {
      assertThat(r.outcome()).isEqualTo(FlowOutcome.CANCELLED);
      assertThat(r.nodeOutputs()).isEqualTo(new JsonObject());
    });
  }

  @Test
  void a_failing_branch_stops_the_other_branch_in_flight(Vertx vertx, VertxTestContext tc) throws Exception {
    JsonObject flow = flow(nodes(node("input", "api_input"), delay("slow", 60_000), transform("bad", "$error('nope')"),
        node("output", "output")),
        chain("input", "slow", "output").add(edge("input", "bad")).add(edge("bad", "output")));
    FlowPlan plan = compile(types, flow);
    verify(tc, run(vertx, executor, plan, new JsonObject(), new RunControl()), r -> {
      assertThat(r.outcome()).isEqualTo(FlowOutcome.FAILED);
      assertThat(r.error().getString("node_id")).isEqualTo("bad");
      assertThat(status(r, "slow")).isEqualTo("cancelled");
      assertThat(status(r, "bad")).isEqualTo("failed");
    });
  }

  @Test
  void runs_custom_spi_node_types_and_blocking_ones_on_a_worker(Vertx vertx, VertxTestContext tc)
      throws Exception {
    JsonObject flow = flow(nodes(node("input", "api_input"),
        node("up", "test_uppercase", new JsonObject().put("field", "name")), node("probe", "test_worker_probe"),
        node("output", "output")), chain("input", "up", "probe", "output"));
    FlowPlan plan = compile(types, flow);
    Context context = vertx.getOrCreateContext();
    context.runOnContext(v -> executor.execute(plan, new JsonObject().put("name", "ada"), new RunControl())
        .onComplete(tc.succeeding(r -> tc.verify(() -> {
          assertThat(Vertx.currentContext()).isSameAs(context);
          assertThat(r.outcome()).isEqualTo(FlowOutcome.COMPLETED);
          assertThat(r.outputData().getBoolean("on_worker")).isTrue();
          assertThat(r.outputData().getBoolean("on_event_loop")).isFalse();
          assertThat(r.outputData().getJsonObject("input")).isEqualTo(new JsonObject().put("name", "ADA"));
          assertThat(r.outputData().getJsonArray("seen_nodes")).isEqualTo(new JsonArray().add("input").add("up"));
          tc.completeNow();
        }))));
  }

  @Test
  void shares_one_plan_between_concurrent_runs(Vertx vertx, VertxTestContext tc) throws Exception {
    FlowPlan plan = compile(types, flow(nodes(node("input", "api_input"), delay("wait", 20),
        transform("shape", "{'n': n * 2}"), node("output", "output")), chain("input", "wait", "shape", "output")));
    int runs = 50;
    var checkpoint = tc.checkpoint(runs);
    for (int i = 0; i < runs; i++) {
      int n = i;
      run(vertx, executor, plan, new JsonObject().put("n", n), new RunControl())
          .onComplete(tc.succeeding(r -> tc.verify(() -> {
            assertThat(r.outputData()).isEqualTo(new JsonObject().put("n", n * 2));
            checkpoint.flag();
          })));
    }
  }
}
