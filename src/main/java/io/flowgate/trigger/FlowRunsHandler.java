package io.flowgate.trigger;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.deployments.ApiKey;
import io.flowgate.deployments.Catalog;
import io.flowgate.http.Responses;
import io.flowgate.runs.Run;
import io.flowgate.runs.RunService;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code GET /node/flow-runs/{flow_run_id}/}: the run, if the key may see it (same profile; a deployment-scoped key
 * sees only its deployment's runs). A run the key may not see is 404 exactly as one that does not exist. Event-loop
 * only.
 */
public final class FlowRunsHandler implements Handler<RoutingContext> {
  private final Catalog catalog;
  private final RunService runs;

  public FlowRunsHandler(Catalog catalog, RunService runs) {
    this.catalog = catalog;
    this.runs = runs;
  }

  @Override
  public void handle(RoutingContext rc) {
    String runId = rc.pathParam("flow_run_id");
    catalog.authenticate(rc.request().getHeader(TriggerHandler.X_API_KEY))
        .compose(key -> TriggerHandler.parseUuid(runId) == null
            ? Future.failedFuture(notFound())
            : runs.find(runId).compose(run -> visible(key, run) ? Future.succeededFuture(run)
                : Future.failedFuture(notFound())))
        .onSuccess(run -> Responses.success(rc, 200, run.toWire()))
        .onFailure(rc::fail);
  }

  private static boolean visible(ApiKey key, Run run) {
    return run != null && key.profileId().equals(run.profileId())
        && (key.deploymentId() == null || key.deploymentId().equals(run.deploymentId()));
  }

  private static GatewayException notFound() {
    return new GatewayException(ErrorCode.FLOW_RUN_NOT_FOUND,
        "No run with this id is visible to this API key; check the flow_run_id (runs are kept for a limited time).");
  }
}
