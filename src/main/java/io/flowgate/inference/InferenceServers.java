package io.flowgate.inference;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The inference runtime of this node (DESIGN §1.4, §3): one live {@code ServerRuntime} per inference server in use,
 * created on first use from PostgreSQL, and dropped or updated in place when a change notice ({@link #onChange}) or
 * the periodic re-read says the server is gone or changed. Changes made on any node (a PATCH, start, stop, delete)
 * reach every node this way: the stored row is the truth, each node converges to it. Forwarding ({@link #infer}) is
 * what fast-mode triggers and the {@code inference} node call. Thread-safe: shared by every event loop; futures
 * complete on the caller's context.
 */
public final class InferenceServers {
  private static final Logger LOG = LoggerFactory.getLogger(InferenceServers.class);
  private static final String CHANGE_PREFIX = "inference_servers:";
  private static final String DEPLOYMENT_ADVICE = "this deployment forwards to does not exist any more; point the "
      + "deployment at another one.";

  private final Vertx vertx;
  private final InferenceServerRepository repository;
  private final InferenceSettings settings;
  private final Map<UUID, ServerRuntime> runtimes = new ConcurrentHashMap<>();
  private final Context home;
  private volatile long revalidateTimer = -1;
  private volatile boolean closed;

  public InferenceServers(Vertx vertx, InferenceServerRepository repository, InferenceSettings settings) {
    this.vertx = vertx;
    this.repository = repository;
    this.settings = settings;
    // Construct off any verticle (as Gateway does at start): this context then belongs to no deployment, so the
    // checks, timers and process handling on it outlive the HTTP verticles until close().
    this.home = vertx.getOrCreateContext();
    home.runOnContext(v -> {
      if (!closed) {
        revalidateTimer = vertx.setPeriodic(settings.revalidateInterval().toMillis(), id -> revalidate());
      }
    });
  }

  /** The node-wide settings. */
  public InferenceSettings settings() {
    return settings;
  }

  /**
   * Forwards {@code inputData} to the server {@code serverId} of profile {@code profileId}: the prediction, or a
   * {@link GatewayException} with {@code inference_booting}/{@code inference_unavailable} (503, with Retry-After),
   * {@code inference_error} (502), {@code inference_timeout} (504) or {@code invalid_input} (400, an input the
   * protocol cannot carry). With {@code waitSeconds} above 0 a request that finds no ready replica waits up to that
   * long for one.
   */
  public Future<InferenceResult> infer(UUID profileId, UUID serverId, JsonObject inputData, int waitSeconds) {
    return infer(profileId, serverId, inputData, waitSeconds, DEPLOYMENT_ADVICE);
  }

  /**
   * As {@link #infer(UUID, UUID, JsonObject, int)} for {@code inputJson}, the bytes of a JSON object the caller has
   * already checked (Fast Mode's {@code input_data}): forwarded as they are to a passthrough server.
   */
  public Future<InferenceResult> inferBytes(UUID profileId, UUID serverId, Buffer inputJson, int waitSeconds) {
    return call(profileId, serverId, DEPLOYMENT_ADVICE, runtime -> runtime.inferBytes(inputJson, waitSeconds));
  }

  /**
   * As {@link #infer(UUID, UUID, JsonObject, int)}; {@code missingAdvice} ends the sentence of the
   * {@code inference_unavailable} failure for a server that does not exist in the profile (what the caller should
   * change).
   */
  Future<InferenceResult> infer(UUID profileId, UUID serverId, JsonObject inputData, int waitSeconds,
      String missingAdvice) {
    return call(profileId, serverId, missingAdvice, runtime -> runtime.infer(inputData, waitSeconds));
  }

  private Future<InferenceResult> call(UUID profileId, UUID serverId, String missingAdvice,
      Function<ServerRuntime, Future<InferenceResult>> send) {
    ServerRuntime runtime = runtimes.get(serverId);
    if (runtime != null) {
      if (!runtime.spec().profileId().equals(profileId)) {
        return Future.failedFuture(missing(serverId, missingAdvice));
      }
      Future<Void> first = runtime.firstCheck();
      return first.isComplete() ? send.apply(runtime) : first.compose(v -> send.apply(runtime));
    }
    return repository.findById(serverId)
        .recover(e -> Future.failedFuture(GatewayException.retryAfter(ErrorCode.SERVICE_UNAVAILABLE,
            "flowgate cannot reach its database right now; retry in a few seconds.", 2)))
        .compose(spec -> {
          if (spec == null || !spec.profileId().equals(profileId)) {
            return Future.failedFuture(missing(serverId, missingAdvice));
          }
          ServerRuntime loaded = runtimeFor(spec);
          return loaded.firstCheck().compose(v -> send.apply(loaded));
        });
  }

  private static GatewayException missing(UUID serverId, String advice) {
    return new GatewayException(ErrorCode.INFERENCE_UNAVAILABLE, "The inference server " + serverId + " " + advice);
  }

  /**
   * The live runtime of {@code spec}, created (and its checks started) if this node has none yet; an existing one is
   * brought to {@code spec} in the background when {@code spec} is a newer read.
   */
  ServerRuntime runtimeFor(InferenceServerSpec spec) {
    ServerRuntime runtime = runtimeOf(spec);
    if (!runtime.spec().equals(spec)) {
      runtime.update(spec);
    }
    return runtime;
  }

  /** The live runtime of {@code spec.id()}, created from {@code spec} if this node has none yet. */
  private ServerRuntime runtimeOf(InferenceServerSpec spec) {
    if (closed) {
      throw new GatewayException(ErrorCode.SERVICE_UNAVAILABLE, "flowgate is shutting down; retry on another node.");
    }
    ServerRuntime existing = runtimes.get(spec.id());
    if (existing != null) {
      return existing;
    }
    ServerRuntime fresh = new ServerRuntime(vertx, home, spec, settings);
    existing = runtimes.putIfAbsent(spec.id(), fresh);
    if (existing == null) {
      return fresh;
    }
    fresh.close();
    return existing;
  }

  /**
   * {@code spec}'s wire form with this node's live view: {@code state} of the server and {@code replicas} as
   * {@code [{"url", "state", "since", "circuit", "outstanding", "reason"?, "pid"?, "restarts"?}]}.
   */
  public JsonObject describe(InferenceServerSpec spec) {
    JsonObject json = spec.toJson();
    JsonObject live = runtimeFor(spec).describe();
    json.put("state", live.getString("state"));
    json.put("replicas", live.getJsonArray("replicas"));
    json.put("in_flight", live.getInteger("in_flight"));
    json.put("held", live.getInteger("held"));
    return json;
  }

  /**
   * The first-round readiness of {@code spec} (so that a read right after creation shows the checked state), then
   * {@link #describe}.
   */
  public Future<JsonObject> describeChecked(InferenceServerSpec spec) {
    return runtimeFor(spec).firstCheck().map(v -> describe(spec));
  }

  /**
   * Brings this node's runtime of {@code spec.id()} to {@code spec}, a fresh read after a change (PATCH, start,
   * stop): completes when the change is in place here and new replicas were checked. Other nodes apply the same row
   * when its change notice reaches them.
   */
  public Future<Void> apply(InferenceServerSpec spec) {
    ServerRuntime runtime = runtimeOf(spec);
    return runtime.update(spec).compose(v -> runtime.firstCheck());
  }

  /** Applies {@code spec} here, then starts the server on this node now (a launched one launches its replicas). */
  public Future<Void> start(InferenceServerSpec spec) {
    ServerRuntime runtime = runtimeOf(spec);
    return runtime.update(spec).compose(v -> runtime.start());
  }

  /** Applies {@code spec} here, then stops the server on this node (a launched one stops its processes). */
  public Future<Void> stop(InferenceServerSpec spec) {
    ServerRuntime runtime = runtimeOf(spec);
    return runtime.update(spec).compose(v -> runtime.stop());
  }

  /** Drops the server's runtime here (after a delete): held requests fail, launched processes stop. */
  public Future<Void> forget(UUID id) {
    ServerRuntime runtime = runtimes.remove(id);
    return runtime == null ? Future.succeededFuture() : runtime.close();
  }

  /**
   * A change notice from PostgreSQL ({@code flowgate_changes}): a server this node runs is re-read, and dropped or
   * updated in place when it was deleted or changed. Other payloads are ignored.
   */
  public void onChange(String payload) {
    if (payload == null || !payload.startsWith(CHANGE_PREFIX)) {
      return;
    }
    UUID id;
    try {
      id = UUID.fromString(payload.substring(CHANGE_PREFIX.length()));
    } catch (IllegalArgumentException e) {
      return;
    }
    if (runtimes.containsKey(id)) {
      reload(id);
    }
  }

  private void reload(UUID id) {
    repository.findById(id).onSuccess(spec -> {
      ServerRuntime current = runtimes.get(id);
      if (current == null || closed) {
        return;
      }
      if (spec == null) {
        LOG.info("inference server {} was deleted: stopping it on this node", id);
        forget(id);
      } else {
        // Ignored when it is not newer than what runs (a slow read that crossed a later change).
        current.update(spec);
      }
    }).onFailure(e -> LOG.debug("could not re-read inference server {}: {}", id, e.toString()));
  }

  /**
   * Re-reads every server this node runs: the periodic safety net under change notices, and what the gateway calls
   * when its change listener is back after a reconnect (notices sent meanwhile were lost).
   */
  public void revalidate() {
    for (UUID id : new ArrayList<>(runtimes.keySet())) {
      reload(id);
    }
  }

  /** Stops everything: checks, held requests, launched processes (on gateway shutdown). */
  public Future<Void> close() {
    closed = true;
    home.runOnContext(v -> vertx.cancelTimer(revalidateTimer));
    List<Future<Void>> closing = new ArrayList<>();
    for (UUID id : new ArrayList<>(runtimes.keySet())) {
      closing.add(forget(id));
    }
    return Future.join(closing).mapEmpty();
  }
}
