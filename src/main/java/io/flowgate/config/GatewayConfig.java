package io.flowgate.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The whole validated configuration, read once at start by {@link ConfigLoader}: one record per concern. Immutable;
 * any thread.
 */
public record GatewayConfig(
    Http http, Admin admin, Node node, Data data, Redis redis, Pg pg, Runs runs, Flows flows, Cache cache,
    Declarations declarations, Logging logging, Inference inference, Webhooks webhooks, Keys keys, Usage usage) {

  /** The configuration without {@code inference} and {@code webhooks} sections: their defaults. */
  public GatewayConfig(Http http, Admin admin, Node node, Data data, Redis redis, Pg pg, Runs runs, Flows flows,
      Cache cache, Declarations declarations, Logging logging) {
    this(http, admin, node, data, redis, pg, runs, flows, cache, declarations, logging, Inference.defaults(),
        Webhooks.defaults(), Keys.defaults(), Usage.defaults());
  }

  /** The configuration without a {@code webhooks} section: its defaults. */
  public GatewayConfig(Http http, Admin admin, Node node, Data data, Redis redis, Pg pg, Runs runs, Flows flows,
      Cache cache, Declarations declarations, Logging logging, Inference inference) {
    this(http, admin, node, data, redis, pg, runs, flows, cache, declarations, logging, inference,
        Webhooks.defaults(), Keys.defaults(), Usage.defaults());
  }

  /** The configuration without {@code keys} and {@code usage} sections: their defaults. */
  public GatewayConfig(Http http, Admin admin, Node node, Data data, Redis redis, Pg pg, Runs runs, Flows flows,
      Cache cache, Declarations declarations, Logging logging, Inference inference, Webhooks webhooks) {
    this(http, admin, node, data, redis, pg, runs, flows, cache, declarations, logging, inference, webhooks,
        Keys.defaults(), Usage.defaults());
  }

  /**
   * The HTTP server of the gateway. {@code publicUrl} is the base URL clients reach it at (behind a load balancer or
   * proxy), used in generated example code and API documents; empty = derived from each request.
   */
  public record Http(String host, int port, int eventLoops, int maxBodyBytes, int maxHeaderBytes, int maxJsonDepth,
      Duration idleTimeout, Duration shutdownGrace, String publicUrl) {
    /** Without a public URL: derived from each request. */
    public Http(String host, int port, int eventLoops, int maxBodyBytes, int maxHeaderBytes, int maxJsonDepth,
        Duration idleTimeout, Duration shutdownGrace) {
      this(host, port, eventLoops, maxBodyBytes, maxHeaderBytes, maxJsonDepth, idleTimeout, shutdownGrace, "");
    }

    /** The event loops a node uses: {@code event_loops}, or one per core when it is 0. */
    public int loops() {
      return eventLoops > 0 ? eventLoops : Runtime.getRuntime().availableProcessors();
    }
  }

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

  /**
   * Webhook delivery (DESIGN §2.3): whether callback URLs may reach private networks, the deadline of one attempt,
   * the retry schedule (the wait after the 1st, 2nd, ... failure; the delivery fails after the last) with its jitter
   * and the longest {@code Retry-After} honoured, how long a rotated secret still signs, how much of an answer is
   * read, how often due deliveries are looked for, deliveries one node makes at once, the outbox read block and the
   * idle time after which another node takes over a silent node's outbox entries, and how long the log is kept.
   */
  public record Webhooks(boolean allowPrivateNetworks, Duration timeout, List<Duration> retrySchedule,
      int retryJitterPercent, Duration maxRetryAfter, Duration secretOverlap, int maxResponseBytes,
      Duration pollInterval, int concurrency, Duration relayBlock, Duration relayClaimIdle, Duration logRetention) {
    public Webhooks {
      retrySchedule = List.copyOf(retrySchedule);
    }

    /** The shipped defaults of {@code conf/flowgate.yaml}. */
    public static Webhooks defaults() {
      return new Webhooks(false, Duration.ofSeconds(15), List.of(Duration.ofSeconds(5), Duration.ofMinutes(5),
          Duration.ofMinutes(30), Duration.ofHours(2), Duration.ofHours(5), Duration.ofHours(10), Duration.ofHours(10)),
          20, Duration.ofDays(1), Duration.ofDays(1), 1024, Duration.ofSeconds(1), 64, Duration.ofSeconds(1),
          Duration.ofSeconds(30), Duration.ofDays(30));
    }
  }

  /**
   * API keys: how long a rotated key stays valid when the rotation names no {@code overlap_seconds}, and how often
   * each node writes the {@code last_used_at} it noted.
   */
  public record Keys(Duration rotationOverlap, Duration lastUsedFlush) {
    /** The shipped defaults of {@code conf/flowgate.yaml}. */
    public static Keys defaults() {
      return new Keys(Duration.ofDays(1), Duration.ofSeconds(5));
    }
  }

  /** Usage reports: how often each node writes the usage it counted, and how long usage is kept. */
  public record Usage(Duration flush, Duration retention) {
    /** The shipped defaults of {@code conf/flowgate.yaml}. */
    public static Usage defaults() {
      return new Usage(Duration.ofSeconds(10), Duration.ofDays(8));
    }
  }

  /** A copy with other backends (used by Main once the embedded servers have started, and by tests). */
  public GatewayConfig withBackends(String redisUrl, String pgUrl) {
    return new GatewayConfig(http, admin, node,
        data, new Redis(redisUrl, redis.keyPrefix(), redis.poolSize(), redis.commandTimeout()),
        new Pg(pgUrl, pg.poolSize(), pg.statementTimeout()), runs, flows, cache, declarations, logging,
        inference, webhooks, keys, usage);
  }
}
