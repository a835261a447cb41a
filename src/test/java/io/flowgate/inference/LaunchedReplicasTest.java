package io.flowgate.inference;

import static io.flowgate.inference.RuntimeFixture.await;
import static io.flowgate.inference.RuntimeFixture.relaunched;
import static io.flowgate.inference.RuntimeFixture.eventually;
import static io.flowgate.inference.RuntimeFixture.failure;
import static io.flowgate.inference.RuntimeFixture.input;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.testsupport.FakeInferenceMain;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Launched inference servers: child processes ({@link FakeInferenceMain} on {@code $PORT}) started on demand, restarted
 * after a crash, stopped when idle and on close; a command that exits at once is visible in the server's state.
 */
class LaunchedReplicasTest {
  private Vertx vertx;
  private InferenceServers servers;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    servers = new InferenceServers(vertx, null, RuntimeFixture.quick());
  }

  @AfterEach
  void stop() {
    await(servers.close());
    await(vertx.close());
  }

  private static InferenceServerSpec launched(int idleStopSeconds, String... args) {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new ArrayList<>(List.of(java, "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp",
        System.getProperty("java.class.path"), FakeInferenceMain.class.getName()));
    command.addAll(List.of(args));
    return new InferenceServerSpec(UUID.randomUUID(), RuntimeFixture.PROFILE, "launched", Protocol.PASSTHROUGH, null,
        "/predict", null, null, new InferenceServerSpec.Launch(command, 1, idleStopSeconds), 5000, 64, false, 0, null);
  }

  private static JsonObject replica(ServerRuntime runtime) {
    return runtime.describe().getJsonArray("replicas").getJsonObject(0);
  }

  @Test
  void a_request_starts_the_server_answers_503_booting_and_a_waiting_request_gets_the_prediction() {
    ServerRuntime runtime = servers.runtimeFor(launched(600, "ready", "300"));
    assertThat(runtime.describe().getString("state")).isEqualTo("stopped");
    GatewayException booting = failure(runtime.infer(input("{}"), 0));
    assertThat(booting.code()).isEqualTo(ErrorCode.INFERENCE_BOOTING);
    assertThat(booting.retryAfterSeconds()).isPositive();
    assertThat(await(runtime.infer(input("{\"x\": 1}"), 30)).output().getString("label")).isEqualTo("setosa");
    eventually(() -> "ready".equals(runtime.describe().getString("state")), Duration.ofSeconds(5), "ready");
    assertThat(replica(runtime).getLong("pid")).isNotNull();
    assertThat(replica(runtime).getString("url")).startsWith("http://127.0.0.1:");
  }

  @Test
  void a_command_that_exits_at_once_leaves_the_replica_unavailable_with_the_reason() {
    ServerRuntime runtime = servers.runtimeFor(launched(600, "exit"));
    assertThat(failure(runtime.infer(input("{}"), 0)).code()).isEqualTo(ErrorCode.INFERENCE_BOOTING);
    // The restart count and the state are two updates: wait until both show the crash (the backoff keeps the
    // replica unavailable for a second before the next start).
    eventually(() -> replica(runtime).getInteger("restarts") >= 1
        && "unavailable".equals(replica(runtime).getString("state")), Duration.ofSeconds(20), "crash seen");
    JsonObject replica = replica(runtime);
    assertThat(replica.getString("state")).isIn("unavailable", "booting");
    assertThat(replica.getString("reason")).contains("exited with code 3");
    GatewayException e = failure(runtime.infer(input("{}"), 0));
    assertThat(e.code()).isIn(ErrorCode.INFERENCE_UNAVAILABLE, ErrorCode.INFERENCE_BOOTING);
    assertThat(e.retryAfterSeconds()).isPositive();
  }

  @Test
  void a_crashed_replica_is_restarted() {
    ServerRuntime runtime = servers.runtimeFor(launched(600, "ready"));
    await(runtime.infer(input("{}"), 30));
    long pid = replica(runtime).getLong("pid");
    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    eventually(() -> replica(runtime).getInteger("restarts") == 1, Duration.ofSeconds(10), "crash seen");
    eventually(() -> "ready".equals(replica(runtime).getString("state")), Duration.ofSeconds(30), "restarted");
    assertThat(replica(runtime).getLong("pid")).isNotEqualTo(pid);
    assertThat(await(runtime.infer(input("{}"), 10)).output().getString("label")).isEqualTo("setosa");
  }

  @Test
  void an_idle_server_is_stopped_and_starts_again_on_demand() {
    ServerRuntime runtime = servers.runtimeFor(launched(1, "ready"));
    await(runtime.infer(input("{}"), 30));
    long pid = replica(runtime).getLong("pid");
    eventually(() -> "stopped".equals(runtime.describe().getString("state")), Duration.ofSeconds(15), "idle stop");
    eventually(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true), Duration.ofSeconds(10), "exited");
    assertThat(failure(runtime.infer(input("{}"), 0)).code()).isEqualTo(ErrorCode.INFERENCE_BOOTING);
    assertThat(await(runtime.infer(input("{}"), 30)).output().getString("label")).isEqualTo("setosa");
  }

  @Test
  void closing_the_runtime_stops_launched_processes() {
    ServerRuntime runtime = servers.runtimeFor(launched(600, "ready"));
    await(runtime.infer(input("{}"), 30));
    long pid = replica(runtime).getLong("pid");
    await(servers.close());
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
  }

  @Test
  void a_new_idle_time_or_replica_count_keeps_the_processes_and_a_new_command_replaces_them() {
    InferenceServerSpec spec = launched(600, "ready");
    ServerRuntime runtime = servers.runtimeFor(spec);
    await(runtime.infer(input("{}"), 30));
    long first = replica(runtime).getLong("pid");

    InferenceServerSpec two = relaunched(spec, new InferenceServerSpec.Launch(spec.launch().command(), 2, 300));
    await(servers.apply(two));
    assertThat(replica(runtime).getLong("pid")).isEqualTo(first);
    eventually(() -> runtime.describe().getJsonArray("replicas").stream()
        .allMatch(r -> "ready".equals(((JsonObject) r).getString("state"))), Duration.ofSeconds(30), "two ready");
    assertThat(replica(runtime).getLong("pid")).isEqualTo(first);
    long second = runtime.describe().getJsonArray("replicas").getJsonObject(1).getLong("pid");

    List<String> command = new ArrayList<>(two.launch().command());
    command.add("0");
    await(servers.apply(relaunched(two, new InferenceServerSpec.Launch(command, 1, 300))));
    assertThat(runtime.describe().getJsonArray("replicas")).hasSize(1);
    eventually(() -> runtime.describe().getJsonArray("replicas").stream().map(r -> (JsonObject) r)
        .allMatch(r -> "ready".equals(r.getString("state")) && r.getLong("pid") != null
            && r.getLong("pid") != first && r.getLong("pid") != second), Duration.ofSeconds(30), "replaced");
    for (long old : new long[] {first, second}) {
      eventually(() -> ProcessHandle.of(old).map(p -> !p.isAlive()).orElse(true), Duration.ofSeconds(10),
          "old process " + old + " stopped");
    }
    assertThat(await(runtime.infer(input("{}"), 10)).output().getString("label")).isEqualTo("setosa");
  }
}
