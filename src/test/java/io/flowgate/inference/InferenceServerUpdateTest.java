package io.flowgate.inference;

import static io.flowgate.inference.RuntimeFixture.await;
import static io.flowgate.inference.RuntimeFixture.changed;
import static io.flowgate.inference.RuntimeFixture.eventually;
import static io.flowgate.inference.RuntimeFixture.failure;
import static io.flowgate.inference.RuntimeFixture.input;
import static io.flowgate.inference.RuntimeFixture.passthrough;
import static io.flowgate.inference.RuntimeFixture.stopped;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.testsupport.FakeInferenceServer;
import io.flowgate.testsupport.FakeInferenceServer.Mode;
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
 * A server changed while it runs (PATCH, stop, start on any node reach a runtime as a newer read): the change is
 * applied in place, requests in flight or held finish, replicas that stay keep their state, and an older read never
 * undoes a newer one. No database: runtimes are built from specs directly.
 */
class InferenceServerUpdateTest extends RuntimeTestBase {
  private static JsonObject replicasPatch(FakeInferenceServer... fakes) {
    JsonArray urls = new JsonArray();
    for (FakeInferenceServer f : fakes) {
      urls.add(f.url());
    }
    return new JsonObject().put("replicas", urls);
  }

  private static JsonObject replica(ServerRuntime runtime, int index) {
    return runtime.describe().getJsonArray("replicas").getJsonObject(index);
  }

  @Test
  void a_request_in_flight_finishes_on_the_old_replica_while_new_requests_go_to_the_new_one() {
    FakeInferenceServer old = fake().latency(500);
    FakeInferenceServer fresh = fake();
    InferenceServerSpec spec = passthrough(List.of(old.url()), 5000, 64);
    ServerRuntime runtime = servers.runtimeFor(spec);
    await(runtime.firstCheck());
    Future<InferenceResult> slow = runtime.infer(input("{\"n\": 1}"), 0);
    eventually(() -> old.predictions() == 1, Duration.ofSeconds(5), "the slow request reached the old replica");

    // Another replica and a max_in_flight below the pool size: a new client as well as a new replica.
    await(servers.apply(changed(spec, replicasPatch(fresh).put("max_in_flight", 2))));
    assertThat(await(runtime.infer(input("{\"n\": 2}"), 0)).output().getJsonObject("received").getInteger("n"))
        .isEqualTo(2);
    assertThat(fresh.predictions()).isEqualTo(1);
    assertThat(await(slow).output().getJsonObject("received").getInteger("n")).isEqualTo(1);
    assertThat(old.predictions()).isEqualTo(1);
    assertThat(runtime.describe().getJsonArray("replicas")).hasSize(1);
    assertThat(replica(runtime, 0).getString("url")).isEqualTo(fresh.url());
    assertThat(runtime.spec().maxInFlight()).isEqualTo(2);
  }

  @Test
  void a_replica_that_stays_keeps_its_state_and_an_older_read_is_ignored() {
    FakeInferenceServer a = fake();
    FakeInferenceServer b = fake();
    InferenceServerSpec spec = passthrough(List.of(a.url()), 2000, 64);
    ServerRuntime runtime = servers.runtimeFor(spec);
    await(runtime.firstCheck());
    String readySince = replica(runtime, 0).getString("since");

    InferenceServerSpec two = changed(spec, replicasPatch(a, b).put("timeout_ms", 1500));
    await(servers.apply(two));
    assertThat(runtime.describe().getString("state")).isEqualTo("ready");
    assertThat(replica(runtime, 0).getString("since")).isEqualTo(readySince);
    assertThat(replica(runtime, 1).getString("url")).isEqualTo(b.url());
    assertThat(replica(runtime, 1).getString("state")).isEqualTo("ready");

    // A re-read that started before the change and ends after it carries the older revision.
    await(servers.apply(spec));
    assertThat(runtime.spec()).isEqualTo(two);
    assertThat(runtime.describe().getJsonArray("replicas")).hasSize(2);
  }

  @Test
  void a_new_readiness_path_is_checked_at_once() {
    InferenceSettings q = RuntimeFixture.quick();
    // Checks an hour apart: only the change itself can have checked the new path. A roomy check timeout: a cold JVM
    // on a busy machine must not turn the 404 into a timeout.
    InferenceServers slowChecks = new InferenceServers(vertx, null, new InferenceSettings(Duration.ofHours(1),
        Duration.ofSeconds(10), q.connectTimeout(), q.maxResponseBytes(), q.breakerFailures(), q.breakerWindow(),
        q.breakerReset(), q.maxHeldPerServer(), q.poolSize(), q.poolWaitQueue(), q.bootEstimate(),
        q.revalidateInterval(), null));
    try {
      FakeInferenceServer fake = fake();
      InferenceServerSpec wrongPath = changed(passthrough(List.of(fake.url()), 2000, 64),
          new JsonObject().put("ready_path", "/missing"));
      ServerRuntime runtime = slowChecks.runtimeFor(wrongPath);
      await(runtime.firstCheck());
      assertThat(runtime.describe().getString("state")).isEqualTo("unavailable");
      assertThat(replica(runtime, 0).getString("reason")).contains("HTTP 404");

      await(slowChecks.apply(changed(wrongPath, new JsonObject().putNull("ready_path"))));
      assertThat(runtime.describe().getString("state")).isEqualTo("ready");
      assertThat(await(runtime.infer(input("{}"), 0)).output().getString("label")).isEqualTo("setosa");
    } finally {
      await(slowChecks.close());
    }
  }

  @Test
  void a_stop_fails_held_and_new_requests_with_the_stopped_answer_and_a_start_serves_again() {
    FakeInferenceServer fake = fake().mode(Mode.BOOTING);
    InferenceServerSpec spec = passthrough(List.of(fake.url()), 2000, 64);
    ServerRuntime runtime = servers.runtimeFor(spec);
    await(runtime.firstCheck());
    Future<InferenceResult> held = runtime.infer(input("{}"), 20);

    InferenceServerSpec off = stopped(spec, true);
    await(servers.apply(off));
    for (GatewayException e : List.of(failure(held), failure(runtime.infer(input("{}"), 0)))) {
      assertThat(e.code()).isEqualTo(ErrorCode.INFERENCE_UNAVAILABLE);
      assertThat(e.detail()).contains("is stopped").contains("/api/v1/inference-servers/" + spec.id() + "/start");
      assertThat(e.retryAfterSeconds()).isPositive();
    }
    assertThat(runtime.describe().getString("state")).isEqualTo("stopped");
    assertThat(fake.predictions()).isZero();

    fake.mode(Mode.READY);
    await(servers.apply(stopped(off, false)));
    assertThat(runtime.describe().getString("state")).isEqualTo("ready");
    assertThat(await(runtime.infer(input("{}"), 0)).output().getString("label")).isEqualTo("setosa");
  }

  @Test
  void a_held_request_is_answered_by_a_replica_that_a_change_brings() {
    FakeInferenceServer booting = fake().mode(Mode.BOOTING);
    FakeInferenceServer ready = fake();
    InferenceServerSpec spec = passthrough(List.of(booting.url()), 2000, 64);
    ServerRuntime runtime = servers.runtimeFor(spec);
    await(runtime.firstCheck());
    Future<InferenceResult> held = runtime.infer(input("{\"waited\": true}"), 20);
    eventually(() -> runtime.heldCount() == 1, Duration.ofSeconds(5), "the request is held");

    await(servers.apply(changed(spec, replicasPatch(ready))));
    assertThat(await(held).output().getJsonObject("received").getBoolean("waited")).isTrue();
    assertThat(ready.predictions()).isEqualTo(1);
    assertThat(booting.predictions()).isZero();
  }

  @Test
  void a_held_request_follows_a_protocol_change() {
    FakeInferenceServer booting = fake().mode(Mode.BOOTING);
    InferenceServerSpec spec = passthrough(List.of(booting.url()), 2000, 64);
    ServerRuntime runtime = servers.runtimeFor(spec);
    await(runtime.firstCheck());
    Future<InferenceResult> held = runtime.infer(input("{\"features\": [5.1, 3.5, 1.4, 0.2]}"), 20);
    eventually(() -> runtime.heldCount() == 1, Duration.ofSeconds(5), "the request is held");

    FakeInferenceServer oip = fake();
    await(servers.apply(changed(spec, replicasPatch(oip).put("protocol", "open_inference_v2").put("model",
        "iris"))));
    JsonObject output = await(held).output();
    assertThat(output.getString("model_name")).isEqualTo("iris");
    assertThat(oip.lastBody().getJsonArray("inputs").getJsonObject(0).getString("datatype")).isEqualTo("FP32");
  }
}
