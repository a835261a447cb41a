package io.flowgate.inference;

import io.flowgate.config.GatewayConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Node-wide knobs of the inference runtime (per-server ones, such as the request timeout and the in-flight cap, live on
 * the server): readiness check cadence, connection and breaker bounds, how many requests may wait for a replica, and
 * where launched replicas write their output. Immutable; any thread.
 *
 * @param healthInterval how often each replica's readiness is checked
 * @param checkTimeout deadline of one readiness check
 * @param connectTimeout TCP connect deadline towards a replica
 * @param maxResponseBytes the largest upstream answer read; a larger one is 502 {@code inference_error}
 * @param breakerFailures failures within {@code breakerWindow} that open a replica's circuit
 * @param breakerWindow the rolling window in which failures are counted
 * @param breakerReset how long a circuit stays open before one trial request
 * @param maxHeldPerServer requests per server that may wait ({@code X-Wait-For-Ready}) for a replica
 * @param poolSize keep-alive connections per replica and event loop
 * @param poolWaitQueue requests per replica and event loop that may wait for a pooled connection (Vert.x's default
 *     is unbounded)
 * @param bootEstimate the assumed boot time until one has been observed, for {@code Retry-After}
 * @param revalidateInterval how often live servers are re-read from PostgreSQL (a safety net under change notices)
 * @param logDir where launched replicas' stdout/stderr go; null discards them
 */
public record InferenceSettings(Duration healthInterval, Duration checkTimeout, Duration connectTimeout,
    int maxResponseBytes, int breakerFailures, Duration breakerWindow, Duration breakerReset, int maxHeldPerServer,
    int poolSize, int poolWaitQueue, Duration bootEstimate, Duration revalidateInterval, Path logDir) {

  /**
   * The settings of {@code config}'s {@code inference} section; launched replicas log under
   * {@code <data.dir>/inference/} when the data directory exists (it does when the embedded stores run), else their
   * output is discarded.
   */
  public static InferenceSettings of(GatewayConfig config) {
    GatewayConfig.Inference c = config.inference();
    Path data = config.data().dir();
    return new InferenceSettings(c.healthInterval(), c.checkTimeout(), c.connectTimeout(), c.maxResponseBytes(),
        c.breakerFailures(), c.breakerWindow(), c.breakerReset(), c.maxHeldRequests(), c.poolSize(),
        c.poolWaitQueue(), c.bootEstimate(), Duration.ofSeconds(60),
        data != null && Files.isDirectory(data) ? data.toAbsolutePath() : null);
  }

  /** The shipped defaults (as in {@code conf/flowgate.yaml}), logs discarded. */
  public static InferenceSettings defaults() {
    return new InferenceSettings(Duration.ofMillis(1000), Duration.ofMillis(2000), Duration.ofMillis(1000),
        10 * 1024 * 1024, 5, Duration.ofSeconds(10), Duration.ofSeconds(5), 1024, 64, 256, Duration.ofSeconds(10),
        Duration.ofSeconds(60), null);
  }
}
