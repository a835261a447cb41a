package io.flowgate.runs;

import io.flowgate.deployments.Deployment;
import io.flowgate.flow.FlowExecutor;
import io.flowgate.flow.FlowPlan;
import io.flowgate.flow.FlowResult;
import io.flowgate.flow.RunControl;
import io.flowgate.http.RequestIds;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * Starts runs and brings their results back. {@code server}-type runs execute here, in-process, on the caller's
 * context; {@code api}-type runs go through the Redis run queue to whichever node's {@link RunWorkerVerticle} takes
 * them, and the caller waits for the completion notice. Either way a run that passes its deployment's timeout is
 * stopped and ends {@code timed_out}. Thread-safe; call from an event loop.
 */
public final class RunService {
  private final Vertx vertx;
  private final RunStore store;
  private final RunNotices notices;
  private final FlowExecutor executor;
  private final RunHistoryRepository history;
  private final String nodeId;
  private final Duration defaultTimeout;

  RunService(Vertx vertx, RunStore store, RunNotices notices, FlowExecutor executor, RunHistoryRepository history,
      String nodeId, Duration defaultTimeout) {
    this.vertx = vertx;
    this.store = store;
    this.notices = notices;
    this.executor = executor;
    this.history = history;
    this.nodeId = nodeId;
    this.defaultTimeout = defaultTimeout;
  }

  /** The timeout of {@code deployment}'s runs. */
  public Duration timeoutOf(Deployment deployment) {
    return deployment.timeoutSeconds() == null ? defaultTimeout : Duration.ofSeconds(deployment.timeoutSeconds());
  }

  /** Runs a {@code server}-type deployment's flow here and now; completes with the ended run once it is stored. */
  public Future<Run> runInProcess(Deployment deployment, FlowPlan plan, JsonObject input) {
    String runId = RequestIds.random();
    Instant created = Instant.now();
    return execute(plan, input, runId, System.nanoTime() + timeoutOf(deployment).toNanos(), timeoutOf(deployment))
        .compose(outcome -> {
          Run run = new Run(runId, deployment.profileId(), deployment.id(), deployment.flowId(),
              deployment.flowVersion(), "sync", deployment.deploymentType().wire(), outcome.status, created, created,
              Instant.now(), outcome.result.outputData(), outcome.result.nodeOutputs(), outcome.error);
          return store.save(run).map(saved -> {
            history.record(run);
            return run;
          });
        });
  }

  /**
   * Puts an {@code api}-type run on the queue and waits for it, wherever it runs. Past the timeout the run is marked
   * {@code timed_out} (exactly once, whoever wins) and the node executing it is told to stop.
   */
  public Future<Run> runQueued(Deployment deployment, JsonObject input) {
    String runId = RequestIds.random();
    Instant created = Instant.now();
    Duration timeout = timeoutOf(deployment);
    Run queued = new Run(runId, deployment.profileId(), deployment.id(), deployment.flowId(),
        deployment.flowVersion(), "sync", deployment.deploymentType().wire(), RunStatus.QUEUED, created, null, null,
        null, null, null);
    Future<Void> done = notices.awaitDone(runId);
    return store.enqueue(queued, input, nodeId, created.toEpochMilli() + timeout.toMillis())
        .onFailure(e -> notices.forget(runId))
        .compose(v -> done.timeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
            .compose(x -> store.load(runId), e -> timeOut(queued, timeout)))
        .compose(run -> run != null ? Future.succeededFuture(run) : store.load(runId));
  }

  private Future<Run> timeOut(Run queued, Duration timeout) {
    notices.forget(queued.id());
    Instant now = Instant.now();
    JsonObject error = timeoutError(timeout);
    return store.finish(queued.id(), RunStatus.TIMED_OUT, now, Run.result(null, new JsonObject(), error), "")
        .compose(won -> {
          store.publishCancel(queued.id());
          if (won) {
            Run ended = new Run(queued.id(), queued.profileId(), queued.deploymentId(), queued.flowId(),
                queued.flowVersion(), queued.mode(), queued.type(), RunStatus.TIMED_OUT, queued.createdAt(), null,
                now, null, new JsonObject(), error);
            history.record(ended);
          }
          return store.load(queued.id());
        });
  }

  static JsonObject timeoutError(Duration timeout) {
    return new JsonObject().put("message",
        "The run passed its deployment's timeout of " + timeout.toSeconds() + " s and was stopped.");
  }

  /** The run with this id, or null. */
  public Future<Run> find(String runId) {
    return store.load(runId);
  }

  /** What executing a plan came to. */
  record Outcome(RunStatus status, FlowResult result, JsonObject error) {}

  /**
   * Executes {@code plan} on the current context, stopping it at {@code deadlineNanos}; registered for cancel
   * notices while it runs.
   */
  Future<Outcome> execute(FlowPlan plan, JsonObject input, String runId, long deadlineNanos, Duration timeout) {
    RunControl control = new RunControl();
    long remainingMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()));
    long timer = vertx.setTimer(remainingMs, t -> control.cancel("timed_out"));
    notices.executing(runId, control);
    return executor.execute(plan, input, control)
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
}
