package io.flowgate.inference;

import static io.flowgate.inference.RuntimeFixture.await;
import static io.flowgate.inference.RuntimeFixture.closedPort;
import static io.flowgate.inference.RuntimeFixture.eventually;
import static io.flowgate.inference.RuntimeFixture.failure;
import static io.flowgate.inference.RuntimeFixture.input;
import static io.flowgate.inference.RuntimeFixture.oip;
import static io.flowgate.inference.RuntimeFixture.passthrough;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.testsupport.FakeInferenceServer;
import io.flowgate.testsupport.FakeInferenceServer.Mode;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The inference runtime against scriptable fake servers on loopback, one test per failure mode (RELIABILITY §2.3
 * F1–F6) plus both protocols' mapping. No database: runtimes are built from specs directly.
 */
class InferenceRuntimeTest extends RuntimeTestBase {
  private ServerRuntime ready(InferenceServerSpec spec) {
    ServerRuntime runtime = servers.runtimeFor(spec);
    await(runtime.firstCheck());
    return runtime;
  }

  private Replica replica(ServerRuntime runtime, int index) {
    return ((Replica[]) readField(runtime, "replicas"))[index];
  }

  private static Object readField(Object target, String name) {
    try {
      var field = target.getClass().getDeclaredField(name);
      field.setAccessible(true);
      return field.get(target);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void passthrough_forwards_input_data_and_returns_the_object_reply_as_output_data() {
    FakeInferenceServer fake = fake();
    ServerRuntime runtime = ready(passthrough(List.of(fake.url()), 2000, 64));
    InferenceResult result = await(infer(runtime, input("{\"features\": [5.1, 3.5, 1.4, 0.2]}"), 0));
    assertThat(result.output().getString("label")).isEqualTo("setosa");
    assertThat(result.output().getJsonObject("received"))
        .isEqualTo(input("{\"features\": [5.1, 3.5, 1.4, 0.2]}"));
    assertThat(fake.lastBody()).isEqualTo(input("{\"features\": [5.1, 3.5, 1.4, 0.2]}"));
  }

  @Test
  void a_passthrough_reply_that_is_not_an_object_is_wrapped_as_value() {
    FakeInferenceServer fake = fake();
    ServerRuntime runtime = ready(passthrough(List.of(fake.url()), 2000, 64));
    assertThat(await(infer(runtime, input("{\"reply\": [1, 2, 3]}"), 0)).output())
        .isEqualTo(new JsonObject().put("value", new JsonArray().add(1).add(2).add(3)));
    assertThat(await(infer(runtime, input("{\"reply\": 0.75}"), 0)).output())
        .isEqualTo(new JsonObject().put("value", 0.75));
  }

  @Test
  void open_inference_maps_features_to_an_fp32_tensor_and_outputs_to_named_members() {
    FakeInferenceServer fake = fake();
    ServerRuntime runtime = ready(oip(List.of(fake.url())));
    JsonObject out = await(infer(runtime, input("{\"features\": [[5.1, 3.5, 1.4, 0.2], [6.2, 2.9, 4.3, 1.3]]}"), 0))
        .output();
    JsonObject tensor = fake.lastBody().getJsonArray("inputs").getJsonObject(0);
    assertThat(tensor.getString("name")).isEqualTo("input");
    assertThat(tensor.getString("datatype")).isEqualTo("FP32");
    assertThat(tensor.getJsonArray("shape")).containsExactly(2, 4);
    assertThat(tensor.getJsonArray("data")).hasSize(8);
    assertThat(out.getJsonArray("label")).containsExactly("setosa", "setosa");
    assertThat(out.getJsonArray("probabilities").getJsonArray(1)).containsExactly(0.9, 0.07, 0.03);
    assertThat(out.getString("model_name")).isEqualTo("iris");
  }

  @Test
  void open_inference_input_it_cannot_map_is_400_invalid_input_without_forwarding() {
    FakeInferenceServer fake = fake();
    ServerRuntime runtime = ready(oip(List.of(fake.url())));
    GatewayException e = failure(infer(runtime, input("{\"petal\": 1}"), 0));
    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_INPUT);
    assertThat(e.detail()).contains("features");
    assertThat(fake.predictions()).isZero();
  }

  @Test
  void a_refused_connection_is_503_inference_unavailable_with_retry_after() {
    ServerRuntime runtime = ready(passthrough(List.of("http://127.0.0.1:" + closedPort()), 2000, 64));
    GatewayException e = failure(infer(runtime, input("{}"), 0));
    assertThat(e.code()).isEqualTo(ErrorCode.INFERENCE_UNAVAILABLE);
    assertThat(e.retryAfterSeconds()).isPositive();
    assertThat(e.detail()).contains("retry in about");
    assertThat(runtime.describe().getString("state")).isEqualTo("unavailable");
  }

  @Test
  void a_refused_connection_is_retried_once_on_another_ready_replica() {
    FakeInferenceServer good = fake();
    FakeInferenceServer doomed = fake();
    ServerRuntime runtime = ready(passthrough(List.of(doomed.url(), good.url()), 2000, 64));
    doomed.close();
    fakes.remove(doomed);
    // Until the next readiness check the dead replica still looks ready: requests that pick it go to the other.
    for (int i = 0; i < 6; i++) {
      assertThat(await(infer(runtime, input("{}"), 0)).output().getString("label")).isEqualTo("setosa");
    }
  }

  @Test
  void every_replica_down_is_503_inference_unavailable() {
    ServerRuntime runtime = ready(passthrough(List.of("http://127.0.0.1:" + closedPort(),
        "http://127.0.0.1:" + closedPort()), 2000, 64));
    GatewayException e = failure(infer(runtime, input("{}"), 0));
    assertThat(e.code()).isEqualTo(ErrorCode.INFERENCE_UNAVAILABLE);
    assertThat(e.retryAfterSeconds()).isPositive();
    JsonArray replicas = runtime.describe().getJsonArray("replicas");
    assertThat(replicas).hasSize(2);
    assertThat(replicas.getJsonObject(0).getString("state")).isEqualTo("unavailable");
    assertThat(replicas.getJsonObject(0).getString("reason")).contains("readiness check failed");
  }

  @Test
  void an_answer_slower_than_the_timeout_is_504_inference_timeout() {
    FakeInferenceServer fake = fake().latency(2000);
    ServerRuntime runtime = ready(passthrough(List.of(fake.url()), 200, 64));
    long started = System.nanoTime();
    GatewayException e = failure(infer(runtime, input("{}"), 0));
    long tookMs = (System.nanoTime() - started) / 1_000_000;
    assertThat(e.code()).isEqualTo(ErrorCode.INFERENCE_TIMEOUT);
    assertThat(e.detail()).contains("200 ms");
    assertThat(tookMs).isBetween(150L, 1500L);
  }

  @Test
  void a_server_that_never_answers_is_504_and_counts_toward_the_breaker() {
    FakeInferenceServer fake = fake().mode(Mode.HOLD);
    ServerRuntime runtime = ready(passthrough(List.of(fake.url()), 150, 64));
    assertThat(failure(infer(runtime, input("{}"), 0)).code()).isEqualTo(ErrorCode.INFERENCE_TIMEOUT);
    assertThat(replica(runtime, 0).breaker.failureCount()).isEqualTo(1);
  }

  @Test
  void an_upstream_500_is_502_inference_error() {
    FakeInferenceServer fake = fake().mode(Mode.ERROR_500);
    ServerRuntime runtime = ready(passthrough(List.of(fake.url()), 2000, 64));
    GatewayException e = failure(infer(runtime, input("{}"), 0));
    assertThat(e.code()).isEqualTo(ErrorCode.INFERENCE_ERROR);
    assertThat(e.detail()).contains("HTTP 500").contains("the model crashed");
  }

  @Test
  void a_reset_in_the_middle_of_the_answer_is_502_inference_error() {
    FakeInferenceServer fake = fake().mode(Mode.RESET);
    ServerRuntime runtime = ready(passthrough(List.of(fake.url()), 2000, 64));
    GatewayException e = failure(infer(runtime, input("{}"), 0));
    assertThat(e.code()).isEqualTo(ErrorCode.INFERENCE_ERROR);
    assertThat(e.detail()).contains("connection broke");
    assertThat(fake.predictions()).isEqualTo(1);
  }

  @Test
  void a_connection_closed_before_any_answer_is_tried_again_on_the_only_replica() {
    FakeInferenceServer fake = fake().mode(Mode.CLOSE_ONCE);
    ServerRuntime runtime = ready(passthrough(List.of(fake.url()), 2000, 64));
    assertThat(await(infer(runtime, input("{}"), 0)).output().getString("label")).isEqualTo("setosa");
    assertThat(fake.predictions()).isEqualTo(2);
  }

  @Test
  void an_answer_that_is_not_json_or_too_large_is_502_inference_error() {
    FakeInferenceServer fake = fake().mode(Mode.NOT_JSON);
    ServerRuntime runtime = ready(passthrough(List.of(fake.url()), 2000, 64));
    assertThat(failure(infer(runtime, input("{}"), 0)).detail()).contains("not valid JSON");
    fake.mode(Mode.OVERSIZED).oversizedBytes(200 * 1024);
    GatewayException e = failure(infer(runtime, input("{}"), 0));
    assertThat(e.code()).isEqualTo(ErrorCode.INFERENCE_ERROR);
    assertThat(e.detail()).contains("larger than the limit of 65536 bytes");
  }

  @Test
  void a_booting_server_gets_503_inference_booting_with_retry_after_and_nothing_is_forwarded() {
    FakeInferenceServer fake = fake().mode(Mode.BOOTING);
    ServerRuntime runtime = ready(passthrough(List.of(fake.url()), 2000, 64));
    for (int i = 0; i < 10; i++) {
      GatewayException e = failure(infer(runtime, input("{}"), 0));
      assertThat(e.code()).isEqualTo(ErrorCode.INFERENCE_BOOTING);
      assertThat(e.retryAfterSeconds()).isBetween(1, 3);
      assertThat(e.detail()).contains("retry in about");
    }
    assertThat(fake.predictions()).isZero();
    assertThat(runtime.describe().getString("state")).isEqualTo("booting");
    fake.mode(Mode.READY);
    eventually(() -> runtime.describe().getString("state").equals("ready"), Duration.ofSeconds(2), "ready");
    assertThat(await(infer(runtime, input("{}"), 0)).output().getString("label")).isEqualTo("setosa");
  }

  @Test
  void a_503_from_a_replica_that_looked_ready_marks_it_booting_and_is_not_a_breaker_failure() {
    FakeInferenceServer fake = fake();
    ServerRuntime runtime = ready(passthrough(List.of(fake.url()), 2000, 64));
    fake.mode(Mode.BOOTING);
    for (int i = 0; i < 5; i++) {
      assertThat(failure(infer(runtime, input("{}"), 0)).code()).isEqualTo(ErrorCode.INFERENCE_BOOTING);
    }
    Replica replica = replica(runtime, 0);
    assertThat(replica.breaker.failureCount()).isZero();
    assertThat(replica.breaker.state()).isEqualTo(CircuitBreakerState.CLOSED);
    assertThat(fake.predictions()).isLessThanOrEqualTo(2);
  }

  @Test
  void the_breaker_opens_after_repeated_failures_and_closes_after_recovery() throws Exception {
    FakeInferenceServer fake = fake().mode(Mode.ERROR_500);
    ServerRuntime runtime = ready(passthrough(List.of(fake.url()), 2000, 64));
    for (int i = 0; i < 3; i++) {
      assertThat(failure(infer(runtime, input("{}"), 0)).code()).isEqualTo(ErrorCode.INFERENCE_ERROR);
    }
    Replica replica = replica(runtime, 0);
    assertThat(replica.breaker.state()).isEqualTo(CircuitBreakerState.OPEN);
    GatewayException open = failure(infer(runtime, input("{}"), 0));
    assertThat(open.code()).isEqualTo(ErrorCode.INFERENCE_UNAVAILABLE);
    assertThat(open.retryAfterSeconds()).isPositive();
    assertThat(fake.predictions()).isEqualTo(3);
    assertThat(runtime.describe().getJsonArray("replicas").getJsonObject(0).getString("state"))
        .isEqualTo("unavailable");

    fake.mode(Mode.READY);
    eventually(() -> replica.breaker.state() == CircuitBreakerState.HALF_OPEN, Duration.ofSeconds(3), "half-open");
    assertThat(await(infer(runtime, input("{}"), 0)).output().getString("label")).isEqualTo("setosa");
    assertThat(replica.breaker.state()).isEqualTo(CircuitBreakerState.CLOSED);
    assertThat(runtime.describe().getString("state")).isEqualTo("ready");
  }

  @Test
  void past_the_in_flight_cap_requests_are_shed_with_503_at_once() {
    FakeInferenceServer fake = fake().latency(800);
    ServerRuntime runtime = ready(passthrough(List.of(fake.url()), 5000, 2));
    Future<InferenceResult> first = infer(runtime, input("{}"), 0);
    Future<InferenceResult> second = infer(runtime, input("{}"), 0);
    long started = System.nanoTime();
    GatewayException shed = failure(infer(runtime, input("{}"), 0));
    assertThat((System.nanoTime() - started) / 1_000_000).isLessThan(300);
    assertThat(shed.code()).isEqualTo(ErrorCode.INFERENCE_UNAVAILABLE);
    assertThat(shed.retryAfterSeconds()).isEqualTo(1);
    assertThat(shed.detail()).contains("max_in_flight");
    await(first);
    await(second);
  }

  @Test
  void a_full_connection_pool_wait_queue_is_503_at_once() {
    FakeInferenceServer fake = fake().latency(800);
    InferenceSettings q = RuntimeFixture.quick();
    // Two connections per replica, one request may wait for one; no periodic checks competing for them.
    InferenceSettings oneConnection = new InferenceSettings(Duration.ofMinutes(10), q.checkTimeout(),
        q.connectTimeout(), q.maxResponseBytes(), q.breakerFailures(), q.breakerWindow(), q.breakerReset(),
        q.maxHeldPerServer(), 2, 1, q.bootEstimate(), q.revalidateInterval(), null);
    InferenceServers tight = new InferenceServers(vertx, null, oneConnection);
    try {
      ServerRuntime runtime = tight.runtimeFor(passthrough(List.of(fake.url()), 5000, 64));
      await(runtime.firstCheck());
      List<Future<InferenceResult>> burst = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        burst.add(infer(runtime, input("{}"), 0));
      }
      await(Future.join(burst).otherwiseEmpty());
      int served = 0;
      for (Future<InferenceResult> f : burst) {
        if (f.succeeded()) {
          served++;
        } else {
          GatewayException e = (GatewayException) f.cause();
          assertThat(e.code()).isEqualTo(ErrorCode.INFERENCE_UNAVAILABLE);
          assertThat(e.detail()).contains("no free connection");
          assertThat(e.retryAfterSeconds()).isEqualTo(1);
        }
      }
      // Two connections and one waiting request (a connection being opened counts as waiting): the rest are refused
      // at once, not queued without bound.
      assertThat(served).isBetween(1, 3);
      assertThat(fake.predictions()).isEqualTo(served);
    } finally {
      await(tight.close());
    }
  }

  @Test
  void held_requests_are_released_when_a_replica_becomes_ready() {
    FakeInferenceServer fake = fake().mode(Mode.BOOTING);
    ServerRuntime runtime = ready(passthrough(List.of(fake.url()), 2000, 64));
    long started = System.nanoTime();
    Future<InferenceResult> held = infer(runtime, input("{}"), 10);
    eventually(() -> runtime.heldCount() == 1, Duration.ofSeconds(2), "held");
    assertThat(held.isComplete()).isFalse();
    fake.mode(Mode.READY);
    assertThat(await(held).output().getString("label")).isEqualTo("setosa");
    assertThat((System.nanoTime() - started) / 1_000_000).isLessThan(3000);
    assertThat(runtime.heldCount()).isZero();
  }

  @Test
  void held_requests_are_bounded_and_time_out_with_the_booting_answer() {
    FakeInferenceServer fake = fake().mode(Mode.BOOTING);
    ServerRuntime runtime = ready(passthrough(List.of(fake.url()), 2000, 64));
    Future<InferenceResult> a = infer(runtime, input("{}"), 1);
    Future<InferenceResult> b = infer(runtime, input("{}"), 1);
    long started = System.nanoTime();
    GatewayException third = failure(infer(runtime, input("{}"), 1));
    assertThat((System.nanoTime() - started) / 1_000_000).isLessThan(300);
    assertThat(third.code()).isEqualTo(ErrorCode.INFERENCE_BOOTING);
    assertThat(failure(a).code()).isEqualTo(ErrorCode.INFERENCE_BOOTING);
    assertThat(failure(b).code()).isEqualTo(ErrorCode.INFERENCE_BOOTING);
    assertThat((System.nanoTime() - started) / 1_000_000).isBetween(700L, 3000L);
    assertThat(runtime.heldCount()).isZero();
  }

  @Test
  void load_is_spread_over_ready_replicas() {
    FakeInferenceServer a = fake();
    FakeInferenceServer b = fake();
    ServerRuntime runtime = ready(passthrough(List.of(a.url(), b.url()), 2000, 64));
    for (int i = 0; i < 40; i++) {
      await(infer(runtime, input("{}"), 0));
    }
    assertThat(a.predictions() + b.predictions()).isEqualTo(40);
    assertThat(a.predictions()).isPositive();
    assertThat(b.predictions()).isPositive();
  }

  @Test
  void stop_and_start_on_this_node() {
    FakeInferenceServer fake = fake();
    InferenceServerSpec spec = passthrough(List.of(fake.url()), 2000, 64);
    ServerRuntime runtime = ready(spec);
    await(servers.stop(spec));
    assertThat(runtime.describe().getString("state")).isEqualTo("stopped");
    GatewayException e = failure(infer(runtime, input("{}"), 0));
    assertThat(e.code()).isEqualTo(ErrorCode.INFERENCE_UNAVAILABLE);
    assertThat(e.detail()).contains("/start");
    await(servers.start(spec));
    assertThat(runtime.describe().getString("state")).isEqualTo("ready");
    assertThat(await(infer(runtime, input("{}"), 0)).output().getString("label")).isEqualTo("setosa");
  }
}
