package io.flowgate.flow;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxTestContext;
import java.time.Duration;
import java.util.function.Consumer;
import org.assertj.core.api.AbstractThrowableAssert;

/** Builders and runners shared by the flow tests. */
public final class FlowFixtures {

  /** Compile-only tests never run nodes; one idle instance serves them all. */
  private static final Vertx OFFLINE_VERTX = Vertx.vertx();

  private FlowFixtures() {
  }

  public static JsonObject node(String id, String type, JsonObject config) {
    JsonObject n = new JsonObject().put("id", id).put("type", type);
    return config == null ? n : n.put("config", config);
  }

  public static JsonObject node(String id, String type) {
    return node(id, type, null);
  }

  public static JsonObject transform(String id, String expression) {
    return node(id, "transform", new JsonObject().put("expression", expression));
  }

  public static JsonObject edge(String from, String to) {
    return new JsonObject().put("from", from).put("to", to);
  }

  public static JsonObject edge(String from, String to, boolean when) {
    return edge(from, to).put("when", when);
  }

  public static JsonObject flow(JsonArray nodes, JsonArray edges) {
    return new JsonObject().put("name", "test-flow").put("nodes", nodes).put("edges", edges);
  }

  /** Edges of a chain a -> b -> c ... */
  public static JsonArray chain(String... ids) {
    JsonArray edges = new JsonArray();
    for (int i = 0; i + 1 < ids.length; i++) {
      edges.add(edge(ids[i], ids[i + 1]));
    }
    return edges;
  }

  /** input -> shape (transform with {@code expression}) -> output. */
  public static JsonObject transformFlow(String expression) {
    return flow(new JsonArray().add(node("input", "api_input")).add(transform("shape", expression))
        .add(node("output", "output")), chain("input", "shape", "output"));
  }

  public static FlowLimits testLimits() {
    return new FlowLimits(Duration.ofMillis(2000), 100, Duration.ofSeconds(5), 64 * 1024);
  }

  public static NodeServices services(Vertx vertx) {
    return new NodeServices(vertx, vertx.createHttpClient(new HttpClientOptions(), new PoolOptions()),
        testLimits());
  }

  /** Types without Vert.x running: for compile-only tests. */
  public static NodeTypes offlineTypes() {
    return NodeTypes.load(new NodeServices(OFFLINE_VERTX, null, testLimits()));
  }

  /** Like {@link #offlineTypes()} but with an HTTP client, for compile-only http_request tests. */
  public static NodeTypes offlineTypesWithHttp() {
    return NodeTypes.load(new NodeServices(OFFLINE_VERTX,
        OFFLINE_VERTX.createHttpClient(new HttpClientOptions(), new PoolOptions()), testLimits()));
  }

  public static FlowPlan compile(NodeTypes types, JsonObject flow) throws FlowValidationException {
    return FlowPlan.compile(FlowDefinition.fromJson(flow), types);
  }

  /** Asserts that compiling {@code flow} fails; returns the exception's assert for more checks. */
  public static AbstractThrowableAssert<?, ? extends Throwable> assertInvalid(NodeTypes types, JsonObject flow) {
    return assertThatThrownBy(() -> compile(types, flow)).isInstanceOf(FlowValidationException.class);
  }

  /** Runs {@code plan} on a fresh context of {@code vertx}, as the gateway does. */
  public static Future<FlowResult> run(Vertx vertx, FlowExecutor executor, FlowPlan plan, JsonObject input,
      RunControl control) {
    Promise<FlowResult> promise = Promise.promise();
    vertx.getOrCreateContext().runOnContext(v -> executor.execute(plan, input, control).onComplete(promise));
    return promise.future();
  }

  /** Completes {@code tc} once {@code assertions} pass on the run's result. */
  public static void verify(VertxTestContext tc, Future<FlowResult> run, Consumer<FlowResult> assertions) {
    run.onComplete(tc.succeeding(r -> tc.verify(() -> {
      assertions.accept(r);
      tc.completeNow();
    })));
  }
}
