package io.flowgate.trigger;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.deployments.Catalog;
import io.flowgate.deployments.Deployment;
import io.flowgate.deployments.DeploymentType;
import io.flowgate.deployments.ExecutionMode;
import io.flowgate.flow.FlowPlan;
import io.flowgate.http.BoundedBody;
import io.flowgate.http.ErrorHandler;
import io.flowgate.http.JsonBodies;
import io.flowgate.http.RequestContext;
import io.flowgate.http.Responses;
import io.flowgate.metrics.GatewayMetrics;
import io.flowgate.runs.Run;
import io.flowgate.runs.RunService;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.UUID;

/**
 * {@code POST /node/deployment-trigger/{deployment_id}/}: key check → deployment → body within the deployment's
 * limit → {@code input_data} → the API Input node's schema → dispatch by execution mode and deployment type.
 * Event-loop only.
 */
public final class TriggerHandler implements Handler<RoutingContext> {
  static final CharSequence X_API_KEY = HttpHeaders.createOptimized("X-API-Key");
  private static final String DEPLOYMENT = "fg.deployment";

  private final Catalog catalog;
  private final RunService runs;
  private final JsonBodies json;
  private final GatewayMetrics metrics;
  private final int defaultMaxBody;

  public TriggerHandler(Catalog catalog, RunService runs, JsonBodies json, GatewayMetrics metrics,
      int defaultMaxBody) {
    this.catalog = catalog;
    this.runs = runs;
    this.json = json;
    this.metrics = metrics;
    this.defaultMaxBody = defaultMaxBody;
  }

  /** What a trigger resolved to before it runs. */
  private record Call(Deployment deployment, FlowPlan plan, JsonObject input) {}

  @Override
  public void handle(RoutingContext rc) {
    HttpServerRequest request = rc.request();
    // The body is read only once the deployment (and so its body limit) is known.
    request.pause();
    RequestContext ctx = RequestContext.of(rc);
    UUID deploymentId = parseUuid(rc.pathParam("deployment_id"));
    String apiKey = request.getHeader(X_API_KEY);
    Future<Catalog.Target> target = deploymentId == null
        ? catalog.authenticate(apiKey).compose(k -> Future.failedFuture(Catalog.deploymentNotFound()))
        : catalog.authorize(apiKey, deploymentId);
    target
        .compose(t -> readInput(rc, t))
        .compose(call -> dispatch(rc, call))
        .onFailure(cause -> {
          GatewayException e = ErrorHandler.toGatewayException(cause, 500, rc);
          Deployment d = rc.get(DEPLOYMENT);
          metrics.triggerDone(d == null ? "none" : d.executionMode().wire(),
              d == null ? "none" : d.deploymentType().wire(), e.code().outcome(), ctx.startNanos());
          rc.fail(e);
        });
  }

  private Future<Call> readInput(RoutingContext rc, Catalog.Target target) {
    HttpServerRequest request = rc.request();
    Deployment deployment = target.deployment();
    rc.put(DEPLOYMENT, deployment);
    if (!acceptableContentType(request)) {
      return Future.failedFuture(new GatewayException(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
          "Send the body as JSON with the header Content-Type: application/json."));
    }
    int limit = deployment.maxBodyBytes() != null ? deployment.maxBodyBytes() : defaultMaxBody;
    return BoundedBody.read(request, limit).map(body -> {
      JsonObject envelope = json.parseObject(body, "The request body");
      Object inputData = envelope.getValue("input_data");
      JsonObject input;
      if (inputData == null) {
        input = new JsonObject();
      } else if (inputData instanceof JsonObject object) {
        input = object;
      } else {
        throw new GatewayException(ErrorCode.INVALID_INPUT,
            "input_data must be a JSON object, like {\"input_data\": {\"param1\": \"value1\"}}.");
      }
      FlowPlan plan = target.plan();
      if (plan != null) {
        List<JsonObject> violations = plan.validateInput(input);
        if (!violations.isEmpty()) {
          throw GatewayException.withDetails(ErrorCode.INPUT_VALIDATION_FAILED,
              "input_data does not match this deployment's input schema: " + summary(violations),
              new JsonArray(List.copyOf(violations)));
        }
      }
      return new Call(deployment, plan, input);
    });
  }

  private static String summary(List<JsonObject> violations) {
    JsonObject first = violations.get(0);
    String field = first.getString("field", "");
    String text = (field.isEmpty() ? "" : field + ": ") + first.getString("message", "invalid");
    return violations.size() == 1 ? text + "." : text + " (and " + (violations.size() - 1) + " more; see details).";
  }

  private Future<Void> dispatch(RoutingContext rc, Call call) {
    Deployment d = call.deployment();
    String mode = d.executionMode().wire();
    String type = d.deploymentType().wire();
    long start = RequestContext.of(rc).startNanos();
    if (d.executionMode() != ExecutionMode.SYNC) {
      // Async runs and Fast Mode are issues #3 and #4; refuse clearly rather than pretend.
      return Future.failedFuture(GatewayException.retryAfter(ErrorCode.SERVICE_UNAVAILABLE,
          "This gateway does not serve " + mode + " deployments yet; switch the deployment to sync.", 60));
    }
    Future<Run> run = d.deploymentType() == DeploymentType.SERVER
        ? runs.runInProcess(d, call.plan(), call.input())
        : runs.runQueued(d, call.input());
    return run.map(r -> {
      respond(rc, r);
      metrics.triggerDone(mode, type, outcome(r), start);
      return null;
    });
  }

  private static String outcome(Run run) {
    return switch (run.status()) {
      case COMPLETED -> "ok";
      case TIMED_OUT -> ErrorCode.RUN_TIMEOUT.outcome();
      default -> ErrorCode.FLOW_FAILED.outcome();
    };
  }

  static void respond(RoutingContext rc, Run run) {
    switch (run.status()) {
      case COMPLETED -> Responses.success(rc, 200, run.toWire());
      case TIMED_OUT -> rc.fail(GatewayException.withData(ErrorCode.RUN_TIMEOUT,
          "The run passed this deployment's timeout and was stopped; poll /node/flow-runs/" + run.id()
              + "/ for its record, or raise timeout_seconds.",
          run.toWire()));
      case CANCELLED -> rc.fail(GatewayException.withData(ErrorCode.FLOW_FAILED,
          "The run was cancelled before it completed.", run.toWire()));
      default -> rc.fail(GatewayException.withData(ErrorCode.FLOW_FAILED, failureMessage(run), run.toWire()));
    }
  }

  private static String failureMessage(Run run) {
    JsonObject error = run.error();
    if (error == null) {
      return "The flow failed.";
    }
    String node = error.getString("node_id");
    String message = error.getString("message", "unknown error");
    return node == null ? "The flow failed: " + message : "The flow failed at node '" + node + "': " + message;
  }

  /** application/json (any parameters, any {@code +json} type); no header at all is accepted as JSON too. */
  static boolean acceptableContentType(HttpServerRequest request) {
    String type = request.getHeader(HttpHeaders.CONTENT_TYPE);
    if (type == null) {
      return true;
    }
    int semi = type.indexOf(';');
    String bare = (semi < 0 ? type : type.substring(0, semi)).trim();
    return bare.equalsIgnoreCase("application/json") || bare.regionMatches(true, bare.length() - 5, "+json", 0, 5)
        && bare.length() > 5;
  }

  static UUID parseUuid(String s) {
    if (s == null || s.length() != 36) {
      return null;
    }
    try {
      return UUID.fromString(s);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
