package io.flowgate.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The whole validated configuration, read once at start by {@link ConfigLoader}: one record per concern. Immutable;
 * any thread.
 */
public record GatewayConfig(
    Http http, Admin admin, Node node, Data data, Redis redis, Pg pg, Runs runs, Flows flows, Cache cache,
    Declarations declarations, Logging logging, Inference inference) {

  /** The configuration without an {@code inference} section: its defaults. */
  public GatewayConfig(Http http, Admin admin, Node node, Data data, Redis redis, Pg pg, Runs runs, Flows flows,
      Cache cache, Declarations declarations, Logging logging) {
    this(http, admin, node, data, redis, pg, runs, flows, cache, declarations, logging, Inference.defaults());
  }

  /** The HTTP server of the gateway. */
  public record Http(String host, int port, int eventLoops, int maxBodyBytes, int maxHeaderBytes, int maxJsonDepth,
      Duration idleTimeout, Duration shutdownGrace) {}

  /** The bootstrap admin token (from the environment only); empty when the control plane is locked. */
  public record Admin(String token) {
    public boolean enabled() {
      return token != null && !token.isEmpty();
    }

    @Override
    public String toString() {
      return "Admin[token=" + (enabled() ? "<set>" : "<unset>") + "]";
    }
  }

  /** This node's identity in the cluster. */
  public record Node(String id) {}

  /** Where the embedded servers keep their files. */
  public record Data(Path dir) {}

  /** Redis: an external server when {@code url} is set, the embedded one otherwise. */
  public record Redis(String url, String keyPrefix, int poolSize, Duration commandTimeout) {
    public boolean embedded() {
      return url == null || url.isEmpty();
    }
  }

  /** PostgreSQL: an external server when {@code url} is set, the embedded one otherwise. */
  public record Pg(String url, int poolSize, Duration statementTimeout) {
    public boolean embedded() {
      return url == null || url.isEmpty();
    }
  }

  /** Run execution and retention. */
  public record Runs(Duration defaultTimeout, Duration stateTtl, Duration syncStateTtl, int workerConcurrency, Duration queueBlock,
      Duration historyFlush, int historyBatchSize, Duration claimIdle, Duration heartbeat,
      int maxDeliveries, Duration reconcileInterval, Duration reconcileGrace, Duration reapInterval,
      Duration maxWait) {}

  /** Flow engine bounds. */
  public record Flows(Duration expressionTimeout, int expressionMaxDepth, Duration httpTimeout,
      int httpMaxResponseBytes) {}

  /** The hot-path caches of keys and deployments. */
  public record Cache(Duration ttl) {}

  /** Flows and deployments declared in files and applied at start. */
  public record Declarations(Path dir) {}

  /** Log format. */
  public record Logging(boolean json) {}

  /**
   * The inference runtime of Fast Mode (per-server settings such as timeout_ms and max_in_flight live on the server):
   * readiness check cadence and deadline, connect timeout, the largest answer read, the per-replica circuit breaker
   * (failures within a window open it; reset after), requests held by X-Wait-For-Ready per server, keep-alive
   * connections and pool wait queue per replica, and the assumed boot time before one is observed.
   */
  public record Inference(Duration healthInterval, Duration checkTimeout, Duration connectTimeout,
      int maxResponseBytes, int breakerFailures, Duration breakerWindow, Duration breakerReset, int maxHeldRequests,
      int poolSize, int poolWaitQueue, Duration bootEstimate) {
    /** The shipped defaults of {@code conf/flowgate.yaml}. */
    public static Inference defaults() {
      return new Inference(Duration.ofMillis(1000), Duration.ofMillis(2000), Duration.ofMillis(1000), 10_485_760, 5,
          Duration.ofSeconds(10), Duration.ofSeconds(5), 1024, 64, 256, Duration.ofSeconds(10));
    }
  }

  /** A copy with other backends (used by Main once the embedded servers have started, and by tests). */
  public GatewayConfig withBackends(String redisUrl, String pgUrl) {
    return new GatewayConfig(http, admin, node,
        data, new Redis(redisUrl, redis.keyPrefix(), redis.poolSize(), redis.commandTimeout()),
        new Pg(pgUrl, pg.poolSize(), pg.statementTimeout()), runs, flows, cache, declarations, logging,
        inference);
  }
}
