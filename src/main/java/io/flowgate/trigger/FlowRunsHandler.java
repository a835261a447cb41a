package io.flowgate.trigger;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.deployments.ApiKey;
import io.flowgate.deployments.Catalog;
import io.flowgate.http.Responses;
import io.flowgate.runs.Run;
import io.flowgate.runs.RunService;
import io.flowgate.runs.RunView;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;

/**
 * {@code GET /node/flow-runs/{flow_run_id}/[?wait=N]} and {@code POST /node/flow-runs/{flow_run_id}/cancel}: the
 * run, if the key may see it (same profile; a deployment-scoped key sees only its deployment's runs). A run the key
 * may not see is 404 exactly as one that does not exist. {@code ?wait=N} holds the answer until the run ends or N
 * seconds pass, woken by the completion notice. Event-loop only.
 */
public final class FlowRunsHandler {
  private final Catalog catalog;
  private final RunService runs;

  public FlowRunsHandler(Catalog catalog, RunService runs) {
    this.catalog = catalog;
    this.runs = runs;
  }

  /** The poll. */
  public Handler<RoutingContext> poll() {
    return rc -> {
      Duration wait;
      try {
        wait = waitParam(rc.request().getParam("wait"), runs.maxWait());
      } catch (GatewayException e) {
        rc.fail(e);
        return;
      }
      visibleView(rc)
          .compose(run -> run.status().terminal() || wait.isZero() ? Future.succeededFuture(run)
              : runs.awaitTerminal(run.id(), wait))
          .onSuccess(run -> Responses.success(rc, 200, run.wire()))
          .onFailure(rc::fail);
    };
  }

  /** The cancel: 202 with the run, cancelled, or unchanged when it had ended already. */
  public Handler<RoutingContext> cancel() {
    return rc -> visibleRun(rc)
        .compose(run -> run.status().terminal() ? Future.succeededFuture(run) : runs.cancel(run.id()))
        .onSuccess(run -> Responses.success(rc, 202, run.toWire()))
        .onFailure(rc::fail);
  }

  private Future<Run> visibleRun(RoutingContext rc) {
    String runId = rc.pathParam("flow_run_id");
    return catalog.authenticate(rc.request().getHeader(TriggerHandler.X_API_KEY))
        .compose(key -> TriggerHandler.parseUuid(runId) == null
            ? Future.failedFuture(notFound())
            : runs.find(runId).compose(run -> visible(key, run) ? Future.succeededFuture(run)
                : Future.failedFuture(notFound())));
  }

  /** As {@link #visibleRun}, answered from the run's stored wire form when it has one (no decode, no re-encode). */
  private Future<RunView> visibleView(RoutingContext rc) {
    String runId = rc.pathParam("flow_run_id");
    return catalog.authenticate(rc.request().getHeader(TriggerHandler.X_API_KEY))
        .compose(key -> TriggerHandler.parseUuid(runId) == null
            ? Future.failedFuture(notFound())
            : runs.view(runId).compose(run -> run != null && visible(key, run.profileId(), run.deploymentId())
                ? Future.succeededFuture(run) : Future.failedFuture(notFound())));
  }

  static Duration waitParam(String value, Duration max) {
    if (value == null || value.isEmpty()) {
      return Duration.ZERO;
    }
    try {
      long seconds = Long.parseLong(value.trim());
      if (seconds >= 0 && seconds <= max.toSeconds()) {
        return Duration.ofSeconds(seconds);
      }
    } catch (NumberFormatException ignored) {
      // answered below
    }
    throw new GatewayException(ErrorCode.INVALID_REQUEST,
        "wait must be a whole number of seconds from 0 to " + max.toSeconds() + ", like ?wait=30.");
  }

  private static boolean visible(ApiKey key, Run run) {
    return run != null && visible(key, run.profileId(), run.deploymentId());
  }

  private static boolean visible(ApiKey key, java.util.UUID profileId, java.util.UUID deploymentId) {
    return key.profileId().equals(profileId) && (key.deploymentId() == null || key.deploymentId().equals(deploymentId));
  }

  private static GatewayException notFound() {
    return new GatewayException(ErrorCode.FLOW_RUN_NOT_FOUND,
        "No run with this id is visible to this API key; check the flow_run_id.");
  }
}
