package io.flowgate.inference;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.GatewayException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.awaitility.Awaitility;

/** Shared pieces of the runtime tests: quick settings, specs, blocking waits. JUnit thread only. */
final class RuntimeFixture {
  static final UUID PROFILE = UUID.randomUUID();

  private RuntimeFixture() {
  }

  /** Checks every 50 ms; 3 failures open a circuit for 400 ms; 64 KiB answers; 2 held requests; 4 connections. */
  static InferenceSettings quick() {
    return new InferenceSettings(Duration.ofMillis(50), Duration.ofMillis(500), Duration.ofMillis(500), 64 * 1024,
        3, Duration.ofSeconds(10), Duration.ofMillis(400), 2, 4, 16, Duration.ofSeconds(3), Duration.ofHours(1),
        null);
  }

  static InferenceServerSpec passthrough(List<String> replicas, int timeoutMs, int maxInFlight) {
    return new InferenceServerSpec(UUID.randomUUID(), PROFILE, "fake", Protocol.PASSTHROUGH, null, "/predict", null,
        replicas, null, timeoutMs, maxInFlight, false, 0, null);
  }

  static InferenceServerSpec oip(List<String> replicas) {
    return new InferenceServerSpec(UUID.randomUUID(), PROFILE, "fake-oip", Protocol.OPEN_INFERENCE_V2, "iris", null,
        null, replicas, null, 2000, 64, false, 0, null);
  }

  /** {@code spec} after the PATCH {@code body}, one revision later (as the store would return it). */
  static InferenceServerSpec changed(InferenceServerSpec spec, JsonObject body) {
    InferenceServerSpec p = spec.patch(body);
    return new InferenceServerSpec(p.id(), p.profileId(), p.name(), p.protocol(), p.model(), p.predictPath(),
        p.readyPath(), p.replicas(), p.launch(), p.timeoutMs(), p.maxInFlight(), p.stopped(), spec.revision() + 1,
        p.createdAt());
  }

  /**
   * {@code spec} with other launch settings, one revision later; unchecked, since a test's command carries the test
   * classpath, longer than a command argument may be in the API.
   */
  static InferenceServerSpec relaunched(InferenceServerSpec spec, InferenceServerSpec.Launch launch) {
    return new InferenceServerSpec(spec.id(), spec.profileId(), spec.name(), spec.protocol(), spec.model(),
        spec.predictPath(), spec.readyPath(), null, launch, spec.timeoutMs(), spec.maxInFlight(), spec.stopped(),
        spec.revision() + 1, spec.createdAt());
  }

  /** {@code spec} after a stop ({@code true}) or start, one revision later. */
  static InferenceServerSpec stopped(InferenceServerSpec spec, boolean stopped) {
    InferenceServerSpec s = spec.withStopped(stopped);
    return new InferenceServerSpec(s.id(), s.profileId(), s.name(), s.protocol(), s.model(), s.predictPath(),
        s.readyPath(), s.replicas(), s.launch(), s.timeoutMs(), s.maxInFlight(), stopped, spec.revision() + 1,
        s.createdAt());
  }

  static <T> T await(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("expected success, got " + e.getCause(), e.getCause());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static GatewayException failure(Future<?> future) {
    try {
      future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(GatewayException.class);
      return (GatewayException) e.getCause();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("expected a failure");
  }

  static JsonObject input(String json) {
    return new JsonObject(json);
  }

  /** A loopback port nothing listens on. */
  static int closedPort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static void eventually(BooleanSupplier condition, Duration within, String what) {
    Awaitility.await(what).atMost(within).pollInterval(Duration.ofMillis(20)).until(condition::getAsBoolean);
  }

  static Vertx vertx() {
    return Vertx.vertx();
  }
}
