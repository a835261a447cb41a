package io.flowgate.runs;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.config.GatewayConfig;
import io.flowgate.deployments.Deployment;
import io.flowgate.deployments.DeploymentType;
import io.flowgate.flow.FlowExecutor;
import io.flowgate.flow.FlowPlan;
import io.flowgate.flow.FlowResult;
import io.flowgate.flow.RunControl;
import io.flowgate.webhooks.WebhookEvents;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts runs, waits for them, cancels them. {@code server}-type runs execute on this node (in-process);
 * {@code api}-type runs go through the Redis run queue to whichever node's {@link RunWorkerVerticle} takes them.
 * Async accepts are recorded in PostgreSQL before they are answered. Every run this node executes holds a lease that
 * it renews; a run whose deployment timeout passes is stopped and ends {@code timed_out}. Thread-safe; call from an
 * event loop (runs execute on the caller's context).
 */
public final class RunService {
  private static final Logger LOG = LoggerFactory.getLogger(RunService.class);

  private final Vertx vertx;
  private final RunStore store;
  private final RunNotices notices;
  private final FlowExecutor executor;
  private final RunHistoryRepository history;
  private final AcceptLog acceptLog;
  private final String nodeId;
  private final GatewayConfig.Runs config;
  // Runs executing on this node and the attempt they run as: renewed by the heartbeat.
  private final Map<String, Held> held = new ConcurrentHashMap<>();

  RunService(Vertx vertx, RunStore store, RunNotices notices, FlowExecutor executor, RunHistoryRepository history,
      AcceptLog acceptLog, String nodeId, GatewayConfig.Runs config) {
    this.vertx = vertx;
    this.store = store;
    this.notices = notices;
    this.executor = executor;
    this.history = history;
    this.acceptLog = acceptLog;
    this.nodeId = nodeId;
    this.config = config;
  }

  private record Held(int attempt, RunControl control) {}

  /** The timeout of {@code deployment}'s runs. */
  public Duration timeoutOf(Deployment deployment) {
    return deployment.timeoutSeconds() == null ? config.defaultTimeout()
        : Duration.ofSeconds(deployment.timeoutSeconds());
  }

  /** The longest a caller may be held waiting (long-poll, {@code Prefer: wait}). */
  public Duration maxWait() {
    return config.maxWait();
  }

  private Run newRun(Deployment d, String runId, String mode, UUID apiKeyId) {
    return new Run(runId, d.profileId(), d.id(), d.flowId(), d.flowVersion(), mode, d.deploymentType().wire(),
        RunStatus.QUEUED, Instant.now(), null, null, null, null, null, apiKeyId);
  }

  /**
   * The fast path of a plain sync {@code server} run: executes here and now, and writes its state to Redis once,
   * when it ends. Completes with the ended run. Not for deployments with a webhook: their runs go through
   * {@link #acceptAndAwait}, whose transitions record the run's events. {@code apiKeyId}, here and below, is the key
   * whose trigger made the run: it travels with the run (Redis, history) for usage per key, never onto the wire.
   */
  public Future<RunView> runInProcess(Deployment deployment, FlowPlan plan, JsonObject input, String runId,
      UUID apiKeyId) {
    Instant created = Instant.now();
    Duration timeout = timeoutOf(deployment);
    RunControl control = new RunControl();
    return execute(plan, input, runId, deployment.profileId(), control, System.nanoTime() + timeout.toNanos(),
        timeout)
        .compose(outcome -> {
          Run run = new Run(runId, deployment.profileId(), deployment.id(), deployment.flowId(),
              deployment.flowVersion(), "sync", deployment.deploymentType().wire(), outcome.status, created, created,
              Instant.now(), outcome.output(), outcome.nodes(), outcome.error, apiKeyId);
          // Encoded once: stored in Redis and spliced into the response as these bytes; the history row takes the
          // outputs' text from the same encoding.
          Encoded result = outcome.encode();
          Buffer wire = run.wire(result.output(), result.nodes(), result.error());
          return store.save(run, wire).map(saved -> {
            result.record(history, run);
            return RunView.of(run, wire);
          });
        });
  }

  /**
   * Accepts a run: recorded in PostgreSQL first when {@code durable} (async: the 202 promise), then in Redis; an
   * {@code api} run is queued, a {@code server} run starts executing here in the background. Completes once the run
   * is accepted; fails with 503 service_unavailable when that cannot be promised. The run carries {@code apiKeyId}.
   */
  public Future<Void> accept(Deployment deployment, FlowPlan plan, JsonObject input, String runId, String mode,
      boolean durable, String requestId, UUID apiKeyId) {
    Run run = newRun(deployment, runId, mode, apiKeyId);
    long deadline = run.createdAt().toEpochMilli() + timeoutOf(deployment).toMillis();
    // Encoded once for PostgreSQL's record and Redis's.
    String encoded = input.encode();
    Future<Void> recorded = durable
        ? acceptLog.append(run, encoded, deadline, requestId).recover(e -> {
          LOG.warn("recording an accepted run in PostgreSQL failed: {}", e.getMessage());
          return Future.failedFuture(GatewayException.retryAfter(ErrorCode.SERVICE_UNAVAILABLE,
              "flowgate cannot record the run durably right now (PostgreSQL); retry in a few seconds.", 2));
        })
        : Future.succeededFuture();
    // The run carries the webhook events its deployment subscribes to now: its transitions record them.
    String notify = WebhookEvents.flags(deployment.notification());
    return recorded.compose(v -> {
      Future<Void> stored = deployment.deploymentType() == DeploymentType.API
          ? store.enqueue(run, encoded, nodeId, deadline, notify)
          : store.acceptLocal(run, encoded, nodeId, deadline, leaseExpiry(), notify);
      return stored.transform(ar -> {
        if (ar.succeeded()) {
          return Future.succeededFuture(true);
        }
        if (durable && RunStore.maybeApplied(ar.cause())) {
          // The write may have landed and PostgreSQL has the run: it is durably accepted either way. If Redis has
          // it, it runs (its lease or queue entry carries it); if not, the reconciler queues it from PostgreSQL.
          LOG.warn("run {}: Redis write outcome unknown ({}); accepted from PostgreSQL's record", run.id(),
              ar.cause().toString());
          return Future.succeededFuture(false);
        }
        Future<Void> withdrawn = durable
            // PostgreSQL has it but the caller hears 503: withdraw it now, or the reconciler would run it later.
            ? history.markNotAccepted(run.id(), "Not accepted: the run store (Redis) was unreachable.")
                .recover(e -> {
                  LOG.warn("run {}: could not withdraw a refused accept: {}", run.id(), e.getMessage());
                  return Future.succeededFuture();
                })
            : Future.succeededFuture();
        return withdrawn.compose(x -> RunStore.unavailable(ar.cause()));
      });
    }).compose(inRedis -> {
      if (inRedis && deployment.deploymentType() == DeploymentType.SERVER) {
        executeAccepted(plan, input, run, deadline, 1);
      }
      return Future.<Void>succeededFuture();
    });
  }

  /** Executes a run that is recorded as running with this node's lease, and ends it (fenced on its attempt). */
  void executeAccepted(FlowPlan plan, JsonObject input, Run run, long deadlineEpochMs, int attempt) {
    RunControl control = new RunControl();
    held.put(run.id(), new Held(attempt, control));
    long remainingMs = deadlineEpochMs - System.currentTimeMillis();
    Duration timeout = Duration.ofMillis(deadlineEpochMs - run.createdAt().toEpochMilli());
    Instant started = Instant.now();
    execute(plan, input, run.id(), run.profileId(), control,
        System.nanoTime() + Math.max(1, remainingMs) * 1_000_000L, timeout)
        // The run's record shows started_at as accepted (ACCEPT_LOCAL writes created_at).
        .compose(outcome -> finish(run, started, run.createdAt(), outcome, attempt))
        .onComplete(ar -> {
          held.remove(run.id());
          if (ar.failed()) {
            // The lease expires and another node runs it again; nothing is lost.
            LOG.warn("run {} ended but could not be recorded: {}", run.id(), ar.cause().getMessage());
          }
        });
  }

  /**
   * Writes the terminal state of a run this node executed, as its wire form (encoded once here, sent on with the done
   * notice); records history if this was the transition. {@code recordStartedAt} is the run's started_at as its
   * Redis record shows it (the first attempt's start), which its wire form shows too.
   */
  Future<Boolean> finish(Run run, Instant started, Instant recordStartedAt, Outcome outcome, int attempt) {
    Instant finished = Instant.now();
    Encoded result = outcome.encode();
    Buffer wire = new Run(run.id(), run.profileId(), run.deploymentId(), run.flowId(), run.flowVersion(), run.mode(),
        run.type(), outcome.status, run.createdAt(), recordStartedAt, finished, outcome.output(), outcome.nodes(),
        outcome.error, run.apiKeyId()).wire(result.output(), result.nodes(), result.error());
    // A sync caller waits for every sync run, on whichever node took it: its notice carries the answer. An async run's
    // waiter (a long poll) is rare and reads the run back.
    return store.finishWithWire(run.id(), outcome.status, finished, wire, attempt, "sync".equals(run.mode()))
        .onSuccess(won -> {
          if (won) {
            result.record(history, new Run(run.id(), run.profileId(), run.deploymentId(), run.flowId(),
                run.flowVersion(), run.mode(), run.type(), outcome.status, run.createdAt(), started, finished,
                outcome.output(), outcome.nodes(), outcome.error, run.apiKeyId()));
          }
        });
  }

  /**
   * Waits until the run has ended or {@code max} has passed; completes with the run as it then is (null when it is
   * unknown). Wakes on the completion notice; no polling of Redis.
   */
  public Future<RunView> awaitTerminal(String runId, Duration max) {
    Future<RunNotices.Ended> done = notices.awaitDone(runId);
    return view(runId).compose(run -> {
      if (run == null || run.status().terminal() || max.isZero()) {
        notices.forget(runId, done);
        return Future.succeededFuture(run);
      }
      return waitFor(runId, done, max);
    }).onFailure(e -> notices.forget(runId, done));
  }

  /**
   * {@link #accept} a sync run and wait until it has ended or {@code max} has passed, as {@link #awaitTerminal}. The
   * waiter is registered before the run is accepted, so the notice cannot be missed and the run is not read first;
   * when the notice carries the run's wire form, it is not read at all.
   */
  public Future<RunView> acceptAndAwait(Deployment deployment, FlowPlan plan, JsonObject input, String runId,
      String requestId, Duration max, UUID apiKeyId) {
    Future<RunNotices.Ended> done = notices.awaitDone(runId);
    return accept(deployment, plan, input, runId, "sync", false, requestId, apiKeyId).transform(ar -> {
      if (ar.failed() || max.isZero()) {
        notices.forget(runId, done);
        return ar.failed() ? Future.failedFuture(ar.cause()) : view(runId);
      }
      return waitFor(runId, done, max);
    });
  }

  private Future<RunView> waitFor(String runId, Future<RunNotices.Ended> done, Duration max) {
    return done.timeout(max.toMillis(), TimeUnit.MILLISECONDS)
        .transform(ar -> {
          notices.forget(runId, done);
          if (ar.succeeded() && ar.result() != null) {
            return Future.succeededFuture(RunView.ofWire(runId, null, null, ar.result().status(),
                ar.result().wire()));
          }
          return view(runId);
        });
  }

  /**
   * Ends a run that passed its deadline as {@code timed_out} (exactly once, whoever wins) and tells the node
   * executing it to stop. Completes with the run as it then is.
   */
  public Future<Run> timeOut(String runId, Duration timeout) {
    return endFromOutside(runId, RunStatus.TIMED_OUT, timeoutError(timeout));
  }

  /** Cancels a run: it ends {@code cancelled} and its work stops. A run that has ended is returned unchanged. */
  public Future<Run> cancel(String runId) {
    return endFromOutside(runId, RunStatus.CANCELLED, new JsonObject().put("message", "The run was cancelled."));
  }

  private Future<Run> endFromOutside(String runId, RunStatus status, JsonObject error) {
    Instant now = Instant.now();
    return store.finish(runId, status, now, Run.result(null, new JsonObject(), error), null, true)
        .compose(won -> store.load(runId).map(run -> {
          if (won && run != null) {
            history.record(run);
          }
          return run;
        }));
  }

  static JsonObject timeoutError(Duration timeout) {
    return new JsonObject().put("message", timeout == null
        ? "The run passed its deployment's timeout and was stopped."
        : "The run passed its deployment's timeout of " + timeout.toSeconds() + " s and was stopped.");
  }

  /** The run with this id: its live state in Redis, else its record in PostgreSQL; null when neither has it. */
  public Future<Run> find(String runId) {
    return store.load(runId).compose(run -> run != null ? Future.succeededFuture(run)
        : history.find(runId).recover(e -> Future.failedFuture(GatewayException.retryAfter(
            ErrorCode.SERVICE_UNAVAILABLE, "flowgate cannot reach its database right now; retry in a few seconds.",
            2))));
  }

  /** {@link #find} as a {@link RunView}: an ended run's stored wire form is not decoded. */
  public Future<RunView> view(String runId) {
    return store.loadView(runId).compose(run -> run != null ? Future.succeededFuture(run)
        : history.find(runId).map(RunView::of).recover(e -> Future.failedFuture(GatewayException.retryAfter(
            ErrorCode.SERVICE_UNAVAILABLE, "flowgate cannot reach its database right now; retry in a few seconds.",
            2))));
  }

  /** What executing a plan came to. */
  record Outcome(RunStatus status, FlowResult result, JsonObject error) {
    JsonObject output() {
      return result == null ? null : result.outputData();
    }

    JsonObject nodes() {
      return result == null ? new JsonObject() : result.nodeOutputs();
    }

    /** The result members encoded once, for the run's wire form and its history row. */
    Encoded encode() {
      JsonObject output = output();
      JsonObject nodes = nodes();
      return new Encoded(output == null ? null : output.toBuffer(), nodes == null ? null : nodes.toBuffer(),
          error == null ? null : error.toBuffer());
    }
  }

  /** A run's output, node outputs and error encoded (null: none). */
  record Encoded(Buffer output, Buffer nodes, Buffer error) {
    /** What the history row stores: the same JSON as text. */
    void record(RunHistoryRepository history, Run run) {
      history.record(run, text(output), text(nodes), text(error));
    }

    private static String text(Buffer json) {
      return json == null ? null : json.toString();
    }
  }

  /**
   * Executes {@code plan} on the current context as a run of {@code profileId} (its deployment's profile: nodes reach
   * only that profile's resources, e.g. inference servers), stopping it at {@code deadlineNanos}; registered for stop
   * notices while it runs.
   */
  Future<Outcome> execute(FlowPlan plan, JsonObject input, String runId, UUID profileId, RunControl control,
      long deadlineNanos, Duration timeout) {
    long remainingMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()));
    long timer = vertx.setTimer(remainingMs, t -> control.cancel("timed_out"));
    notices.executing(runId, control);
    return executor.execute(plan, input, control, profileId)
        .andThen(ar -> {
          vertx.cancelTimer(timer);
          notices.finished(runId);
        })
        .map(result -> switch (result.outcome()) {
          case COMPLETED -> new Outcome(RunStatus.COMPLETED, result, null);
          case FAILED -> new Outcome(RunStatus.FAILED, result, result.error());
          case CANCELLED -> "timed_out".equals(control.reason())
              ? new Outcome(RunStatus.TIMED_OUT, result, timeoutError(timeout))
              : new Outcome(RunStatus.CANCELLED, result, new JsonObject().put("message", "The run was cancelled."));
        });
  }

  long leaseExpiry() {
    return System.currentTimeMillis() + config.claimIdle().toMillis();
  }

  /** Tracks a run a queue worker executes here, for the heartbeat. */
  void hold(String runId, int attempt, RunControl control) {
    held.put(runId, new Held(attempt, control));
  }

  void release(String runId) {
    held.remove(runId);
  }

  /**
   * Renews the leases of every run executing here. A run whose lease is no longer ours (this node stalled and
   * another took it over, or it ended elsewhere) is stopped here: its result would be refused anyway.
   */
  Future<Void> heartbeat() {
    if (held.isEmpty()) {
      return Future.succeededFuture();
    }
    Map<String, Integer> attempts = new java.util.HashMap<>();
    held.forEach((id, h) -> attempts.put(id, h.attempt()));
    return store.heartbeat(nodeId, leaseExpiry(), attempts).map(lost -> {
      stopLost(lost);
      return null;
    });
  }

  private void stopLost(List<String> lost) {
    for (String id : lost) {
      Held h = held.get(id);
      if (h != null) {
        LOG.warn("run {} is no longer held by this node; stopping its execution here", id);
        h.control().cancel("lease lost");
      }
    }
  }

  /** How many runs execute on this node now. */
  int executingCount() {
    return held.size();
  }
}
