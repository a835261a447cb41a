package io.flowgate.deployments;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.flow.FlowDefinition;
import io.flowgate.flow.FlowPlan;
import io.flowgate.flow.FlowValidationException;
import io.flowgate.flow.NodeTypes;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hot path's view of keys, deployments and compiled flow plans, served from memory after warm-up. Entries are
 * dropped at once when PostgreSQL announces a change ({@link #onChange(String)}, fed by LISTEN/NOTIFY) and re-read at
 * least every TTL as a safety net. Unknown keys are remembered briefly so that a flood of well-formed but unknown keys
 * does not become a flood of queries. Thread-safe: shared by every event loop; futures complete on the caller's
 * context.
 */
public final class Catalog {
  private static final Logger LOG = LoggerFactory.getLogger(Catalog.class);
  private static final int MAX_NEGATIVE = 100_000;
  private static final long NEGATIVE_TTL_NANOS = Duration.ofSeconds(5).toNanos();

  private final ApiKeyRepository keys;
  private final DeploymentRepository deployments;
  private final FlowRepository flows;
  private final NodeTypes nodeTypes;
  private final long ttlNanos;
  private final LastUsedRecorder lastUsed;
  private final Map<ByteBuffer, Entry<ApiKey>> keyByHash = new ConcurrentHashMap<>();
  private final Map<ByteBuffer, Long> unknownKeys = new ConcurrentHashMap<>();
  private final Map<UUID, Entry<Deployment>> deploymentById = new ConcurrentHashMap<>();
  private final Map<PlanId, FlowPlan> plans = new ConcurrentHashMap<>();
  private final Map<ByteBuffer, Future<ApiKey>> keyLoads = new ConcurrentHashMap<>();
  private final Map<UUID, Future<Deployment>> deploymentLoads = new ConcurrentHashMap<>();
  private final LongAdder loads = new LongAdder();
  /** How long past the TTL an entry is still served while its refresh runs: min(TTL, 30 s). */
  private final long staleNanos;
  // Bumped by every change notice: a load that began before a change must not cache what it read.
  private final AtomicLong generation = new AtomicLong();

  public Catalog(ApiKeyRepository keys, DeploymentRepository deployments, FlowRepository flows, NodeTypes nodeTypes,
      Duration ttl) {
    this(keys, deployments, flows, nodeTypes, ttl, null);
  }

  /** With {@code lastUsed} (may be null) told of every key that authenticates. */
  public Catalog(ApiKeyRepository keys, DeploymentRepository deployments, FlowRepository flows, NodeTypes nodeTypes,
      Duration ttl, LastUsedRecorder lastUsed) {
    this.lastUsed = lastUsed;
    this.keys = keys;
    this.deployments = deployments;
    this.flows = flows;
    this.nodeTypes = nodeTypes;
    this.ttlNanos = ttl.toNanos();
    this.staleNanos = Math.min(ttlNanos, Duration.ofSeconds(30).toNanos());
  }

  /** A key, its deployment and the deployment's compiled plan (null in fast mode). */
  public record Target(ApiKey key, Deployment deployment, FlowPlan plan) {}

  /**
   * Checks {@code apiKey} and resolves the deployment it calls. Fails with missing_api_key, invalid_api_key,
   * api_key_inactive or deployment_not_found (also for a deployment the key may not see: never reveal which).
   */
  public Future<Target> authorize(String apiKey, UUID deploymentId) {
    return authenticate(apiKey).compose(key -> deployment(deploymentId).compose(deployment -> {
      if (deployment == null || !key.mayCall(deployment)) {
        return Future.failedFuture(deploymentNotFound());
      }
      if (deployment.flowId() == null || deployment.flowVersion() == null) {
        return Future.succeededFuture(new Target(key, deployment, null));
      }
      return plan(deployment.flowId(), deployment.flowVersion())
          .map(plan -> new Target(key, deployment, plan));
    }));
  }

  /**
   * {@link #authorize} answered from memory alone, for the Fast Mode lane: the target when the key and the deployment
   * are cached and fresh, the key is usable and may call the deployment, and the deployment has no flow; null in
   * every other case (a miss, a refusal, a flow to compile), which the caller leaves to {@link #authorize} to answer.
   * Never waits and never fails. Any thread.
   */
  public Target cachedWithoutFlow(String apiKey, UUID deploymentId) {
    if (apiKey == null || !ApiKeys.wellFormed(apiKey)) {
      return null;
    }
    long now = System.nanoTime();
    Entry<Deployment> deployment = deploymentById.get(deploymentId);
    if (deployment == null || now - deployment.loadedAt >= ttlNanos || deployment.value == null
        || deployment.value.flowId() != null) {
      return null;
    }
    byte[] hash = ApiKeys.hash(apiKey);
    Entry<ApiKey> cached = keyByHash.get(ByteBuffer.wrap(hash));
    if (cached == null || now - cached.loadedAt >= ttlNanos) {
      return null;
    }
    ApiKey key = cached.value;
    if (!key.mayCall(deployment.value) || checkUsable(key, hash).failed()) {
      return null;
    }
    return new Target(key, deployment.value, null);
  }

  public static GatewayException deploymentNotFound() {
    return new GatewayException(ErrorCode.DEPLOYMENT_NOT_FOUND,
        "No deployment with this id is visible to this API key; check the URL and the key.");
  }

  /** Checks {@code apiKey}: well-formed, known, active and not expired. */
  public Future<ApiKey> authenticate(String apiKey) {
    if (apiKey == null || apiKey.isEmpty()) {
      return Future.failedFuture(new GatewayException(ErrorCode.MISSING_API_KEY,
          "Send your deployment's API key in the X-API-Key header."));
    }
    if (!ApiKeys.wellFormed(apiKey)) {
      // Refused here, on the event loop, without touching Redis or PostgreSQL.
      return Future.failedFuture(invalidKey());
    }
    byte[] hash = ApiKeys.hash(apiKey);
    ByteBuffer id = ByteBuffer.wrap(hash);
    long now = System.nanoTime();
    Entry<ApiKey> cached = keyByHash.get(id);
    if (cached != null && now - cached.loadedAt < ttlNanos) {
      return checkUsable(cached.value, hash);
    }
    if (cached != null && now - cached.loadedAt < ttlNanos + staleNanos) {
      // Past the safety-net TTL: one refresh in the background, and this call is not held up by it.
      loadKey(id, hash);
      return checkUsable(cached.value, hash);
    }
    Long unknownSince = unknownKeys.get(id);
    if (unknownSince != null && now - unknownSince < NEGATIVE_TTL_NANOS) {
      return Future.failedFuture(invalidKey());
    }
    return onCallersContext(loadKey(id, hash)).compose(key -> key == null ? Future.failedFuture(invalidKey())
        : checkUsable(key, hash));
  }

  /**
   * The key with this hash from PostgreSQL, cached on arrival; one load per key at a time, however many callers ask
   * meanwhile (a cache entry expiring under load would otherwise send every request in flight to the database).
   */
  private Future<ApiKey> loadKey(ByteBuffer id, byte[] hash) {
    return once(keyLoads, id, () -> keys.findByHash(hash), (key, fresh, startedNanos) -> {
      if (key == null) {
        // Gone (deleted, or never was): a stale entry must not outlive the answer.
        keyByHash.remove(id);
        if (unknownKeys.size() >= MAX_NEGATIVE) {
          unknownKeys.clear();
        }
        if (fresh) {
          unknownKeys.put(id, startedNanos);
        }
      } else if (fresh) {
        keyByHash.put(id, new Entry<>(key, startedNanos));
      }
    });
  }

  /** What a finished load does with its answer: {@code fresh} when no change notice arrived while it ran. */
  private interface Store<V> {
    void store(V value, boolean fresh, long startedNanos);
  }

  /**
   * {@code query}'s answer, stored by {@code store} once it arrives; while a load of {@code id} runs, every other
   * caller gets that same load. A failure stores nothing (the next call tries again).
   */
  private <K, V> Future<V> once(Map<K, Future<V>> running, K id, Supplier<Future<V>> query,
      Store<V> store) {
    Future<V> current = running.get(id);
    if (current != null) {
      return current;
    }
    long startedAt = generation.get();
    long startedNanos = System.nanoTime();
    Promise<V> promise = Promise.promise();
    Future<V> load = promise.future();
    Future<V> raced = running.putIfAbsent(id, load);
    if (raced != null) {
      return raced;
    }
    loads.increment();
    query.get().recover(e -> Future.failedFuture(unavailable(e))).onComplete(ar -> {
      running.remove(id, load);
      if (ar.succeeded()) {
        store.store(ar.result(), generation.get() == startedAt, startedNanos);
      }
      promise.handle(ar);
    });
    return load;
  }

  /**
   * {@code shared} as a future whose callbacks run on the caller's context: a load another event loop started
   * completes on that loop, and a request must carry on on its own.
   */
  private static <T> Future<T> onCallersContext(Future<T> shared) {
    Context context = Vertx.currentContext();
    if (context == null || shared.isComplete()) {
      return shared;
    }
    Promise<T> mine = ((ContextInternal) context).promise();
    shared.onComplete(mine);
    return mine.future();
  }

  /** Loads of keys and deployments from PostgreSQL started since the start (tests). */
  public long loads() {
    return loads.sum();
  }

  private Future<ApiKey> checkUsable(ApiKey key, byte[] hash) {
    GatewayException refused = refusal(key, hash);
    if (refused != null) {
      return Future.failedFuture(refused);
    }
    if (lastUsed != null) {
      lastUsed.touch(key.id());
    }
    return Future.succeededFuture(key);
  }

  /** Why {@code key} (found under {@code hash}) may not be used now, or null when it may: the one set of rules. */
  private static GatewayException refusal(ApiKey key, byte[] hash) {
    if (!ApiKeys.sameHash(key.hash(), hash)) {
      return invalidKey();
    }
    if (!key.active()) {
      return new GatewayException(ErrorCode.API_KEY_INACTIVE,
          "This API key is deactivated; activate it or create a new one in the control plane.");
    }
    if (!key.usableAt(Instant.now())) {
      return new GatewayException(ErrorCode.API_KEY_INACTIVE, key.replacedBy() != null
          ? "This API key was rotated and its overlap ended at " + key.expiresAt() + "; use the key that replaced it."
          : "This API key expired at " + key.expiresAt() + "; create a new one in the control plane.");
    }
    return null;
  }

  private static GatewayException invalidKey() {
    return new GatewayException(ErrorCode.INVALID_API_KEY,
        "The API key is not valid; copy the whole key (it starts with sk-) shown when it was created.");
  }

  static GatewayException unavailable(Throwable cause) {
    if (cause instanceof GatewayException ge) {
      return ge;
    }
    return GatewayException.retryAfter(ErrorCode.SERVICE_UNAVAILABLE,
        "flowgate cannot reach its database right now; retry in a few seconds.", 2);
  }

  /** The deployment with this id, from memory when fresh; null when there is none. */
  public Future<Deployment> deployment(UUID id) {
    long now = System.nanoTime();
    Entry<Deployment> cached = deploymentById.get(id);
    if (cached != null && now - cached.loadedAt < ttlNanos) {
      return Future.succeededFuture(cached.value);
    }
    if (cached != null && now - cached.loadedAt < ttlNanos + staleNanos) {
      loadDeployment(id);
      return Future.succeededFuture(cached.value);
    }
    return onCallersContext(loadDeployment(id));
  }

  /** As {@link #loadKey}: one load per deployment at a time, cached on arrival. */
  private Future<Deployment> loadDeployment(UUID id) {
    return once(deploymentLoads, id, () -> deployments.findById(id), (d, fresh, startedNanos) -> {
      if (d != null && fresh) {
        deploymentById.put(id, new Entry<>(d, startedNanos));
      } else {
        deploymentById.remove(id);
      }
    });
  }

  /** The compiled plan of a flow version: compiled once, kept while the process lives (versions never change). */
  public Future<FlowPlan> plan(UUID flowId, int version) {
    PlanId id = new PlanId(flowId, version);
    FlowPlan plan = plans.get(id);
    if (plan != null) {
      return Future.succeededFuture(plan);
    }
    return flows.findVersion(flowId, version)
        .recover(e -> Future.failedFuture(unavailable(e)))
        .compose(definition -> {
          if (definition == null) {
            return Future.failedFuture(deploymentNotFound());
          }
          // Compiling (JSONata, JSON Schema) is CPU work done once per flow version: off the event loop.
          Context context = Vertx.currentContext();
          Future<FlowPlan> compiled = context == null
              ? Future.succeededFuture(definition).map(this::compile)
              : context.executeBlocking(() -> compile(definition), false);
          return compiled.map(fresh -> {
            FlowPlan raced = plans.putIfAbsent(id, fresh);
            return raced != null ? raced : fresh;
          });
        });
  }

  private FlowPlan compile(io.vertx.core.json.JsonObject definition) {
    try {
      return FlowPlan.compile(FlowDefinition.fromJson(definition), nodeTypes);
    } catch (FlowValidationException e) {
      // Validated at creation; failing here means a node type (a plugin) is gone since.
      throw new GatewayException(ErrorCode.INTERNAL, "The deployment's flow no longer compiles: " + e.getMessage());
    }
  }

  /**
   * Drops what a change notice names. Payloads come from the {@code flowgate_notify_change} trigger:
   * {@code <table>:<id>} or, for keys, {@code api_keys:<id>:<hash hex>}.
   */
  public void onChange(String payload) {
    generation.incrementAndGet();
    String[] parts = payload.split(":");
    if (parts.length < 2) {
      return;
    }
    try {
      switch (parts[0]) {
        case "api_keys" -> {
          if (parts.length >= 3) {
            ByteBuffer hash = ByteBuffer.wrap(HexFormat.of().parseHex(parts[2]));
            keyByHash.remove(hash);
            unknownKeys.remove(hash);
          } else {
            clear();
          }
        }
        case "deployments" -> deploymentById.remove(UUID.fromString(parts[1]));
        case "profiles" -> clear();
        default -> {
        }
      }
    } catch (IllegalArgumentException e) {
      LOG.warn("ignoring a malformed change notice");
    }
  }

  /** Drops everything: used when change notices may have been missed (the listener reconnected). */
  public void clear() {
    generation.incrementAndGet();
    keyByHash.clear();
    unknownKeys.clear();
    deploymentById.clear();
  }

  private record Entry<T>(T value, long loadedAt) {}

  private record PlanId(UUID flowId, int version) {}
}
