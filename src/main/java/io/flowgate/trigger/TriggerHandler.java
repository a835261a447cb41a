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
import io.flowgate.http.RequestIds;
import io.flowgate.ratelimit.RateLimit;
import io.flowgate.ratelimit.RateLimiter;
import io.flowgate.runs.IdempotencyStore;
import io.flowgate.runs.Run;
import io.flowgate.runs.RunService;
import io.flowgate.runs.RunView;
import io.flowgate.usage.UsageRecorder;
import io.flowgate.webhooks.WebhookEvents;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
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
  private static final String KEY_ID = "fg.key";
  private static final CharSequence IDEMPOTENCY_KEY = HttpHeaders.createOptimized("Idempotency-Key");
  private static final CharSequence PREFERENCE_APPLIED = HttpHeaders.createOptimized("Preference-Applied");

  private final Catalog catalog;
  private final RunService runs;
  private final IdempotencyStore idempotency;
  private final JsonBodies json;
  private final GatewayMetrics metrics;
  private final int defaultMaxBody;
  private final FastModeHandler fast;
  private final RateLimiter limiter;
  private final UsageRecorder usage;

  /** Without Fast Mode, rate limiter or usage counting (deployments with a {@code rate_limit} get 503). */
  public TriggerHandler(Catalog catalog, RunService runs, IdempotencyStore idempotency, JsonBodies json,
      GatewayMetrics metrics, int defaultMaxBody) {
    this(catalog, runs, idempotency, json, metrics, defaultMaxBody, null, null, null);
  }

  /**
   * With {@code fast} null, fast-mode deployments are refused with 503; with {@code limiter} null, so are deployments
   * that have a {@code rate_limit} (their limit cannot be kept); with {@code usage} null, calls are not counted for
   * usage reports.
   */
  public TriggerHandler(Catalog catalog, RunService runs, IdempotencyStore idempotency, JsonBodies json,
      GatewayMetrics metrics, int defaultMaxBody, FastModeHandler fast, RateLimiter limiter, UsageRecorder usage) {
    this.fast = fast;
    this.limiter = limiter;
    this.usage = usage;
    this.catalog = catalog;
    this.runs = runs;
    this.idempotency = idempotency;
    this.json = json;
    this.metrics = metrics;
    this.defaultMaxBody = defaultMaxBody;
  }

  /**
   * What a trigger resolved to before it runs: {@code input} for a flow, or for Fast Mode {@code inputBytes}, the
   * checked bytes of {@code input_data}, forwarded without a parse into a tree.
   */
  private record Call(Deployment deployment, FlowPlan plan, JsonObject input, Buffer inputBytes) {}

  @Override
  public void handle(RoutingContext rc) {
    HttpServerRequest request = rc.request();
    // The body is read only once the deployment (and so its body limit) is known.
    request.pause();
    RequestContext ctx = RequestContext.of(rc);
    rc.addBodyEndHandler(v -> {
      Deployment d = rc.get(DEPLOYMENT);
      boolean ok = rc.response().getStatusCode() < 400;
      String outcome = ok ? "ok" : rc.get(ErrorHandler.OUTCOME, "error");
      metrics.triggerDone(d == null ? "none" : d.executionMode().wire(), d == null ? "none"
          : d.deploymentType().wire(), outcome, ctx.startNanos());
      // Usage counts the calls that reached a deployment with a valid key (the owner's traffic, not strangers').
      if (usage != null && d != null) {
        usage.call(d.id(), rc.get(KEY_ID), ok ? null : outcome, System.nanoTime() - ctx.startNanos());
      }
    });
    UUID deploymentId = parseUuid(rc.pathParam("deployment_id"));
    String apiKey = request.getHeader(X_API_KEY);
    Future<Catalog.Target> target = deploymentId == null
        ? catalog.authenticate(apiKey).compose(k -> Future.failedFuture(Catalog.deploymentNotFound()))
        : catalog.authorize(apiKey, deploymentId);
    target
        .compose(t -> {
          Future<Catalog.Target> admitted = admit(rc, t);
          // Without a rate limit there is nothing to wait for: no extra Future on the hot path.
          return admitted == null ? readInput(rc, t) : admitted.compose(x -> readInput(rc, x));
        })
        .compose(call -> dispatch(rc, call))
        .onFailure(rc::fail);
  }

  /**
   * Notes the deployment and key for the metrics and usage, then takes the call from the key's rate budget when the
   * deployment has a {@code rate_limit} (one Redis round trip). Every answer of a limited deployment carries
   * {@code RateLimit-*} headers; over the limit it is 429 {@code rate_limited} with {@code Retry-After}. Null when
   * the deployment has no limit: admitted, nothing to wait for.
   */
  private Future<Catalog.Target> admit(RoutingContext rc, Catalog.Target target) {
    Deployment d = target.deployment();
    rc.put(DEPLOYMENT, d);
    rc.put(KEY_ID, target.key().id());
    RateLimit limit = d.rateLimit() == null ? null : RateLimit.of(d.rateLimit());
    if (limit == null) {
      return null;
    }
    if (limiter == null) {
      return Future.failedFuture(GatewayException.retryAfter(ErrorCode.SERVICE_UNAVAILABLE,
          "This gateway cannot keep rate limits; remove the deployment's rate_limit or retry later.", 60));
    }
    return limiter.acquire(d.id(), target.key().id(), limit).compose(decision -> {
      RateLimitHeaders.put(rc.response(), decision);
      if (decision.allowed()) {
        return Future.succeededFuture(target);
      }
      long retry = decision.retryAfterSeconds();
      return Future.failedFuture(GatewayException.retryAfter(ErrorCode.RATE_LIMITED, "This API key is over its rate "
          + "limit on this deployment (" + RateLimitHeaders.describe(limit) + "); retry in " + retry + " second"
          + (retry == 1 ? "" : "s") + ", or ask for a higher rate_limit.", (int) Math.min(Integer.MAX_VALUE, retry)));
    });
  }

  private Future<Call> readInput(RoutingContext rc, Catalog.Target target) {
    HttpServerRequest request = rc.request();
    Deployment deployment = target.deployment();
    if (!acceptableContentType(request)) {
      return Future.failedFuture(new GatewayException(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
          "Send the body as JSON with the header Content-Type: application/json."));
    }
    int limit = deployment.maxBodyBytes() != null ? deployment.maxBodyBytes() : defaultMaxBody;
    FlowPlan plan = target.plan();
    if (deployment.executionMode() == ExecutionMode.FAST && plan == null) {
      return BoundedBody.read(request, limit).map(body -> new Call(deployment, null, null, json.inputDataBytes(body)));
    }
    return BoundedBody.read(request, limit).map(body -> {
      JsonObject envelope = json.parseObject(body, "The request body");
      Object inputData = envelope.getValue("input_data");
      JsonObject input;
      if (inputData == null) {
        input = new JsonObject();
      } else if (inputData instanceof JsonObject object) {
        input = object;
      } else {
        throw JsonBodies.invalidInputData();
      }
      if (plan != null) {
        List<JsonObject> violations = plan.validateInput(input);
        if (!violations.isEmpty()) {
          throw GatewayException.withDetails(ErrorCode.INPUT_VALIDATION_FAILED,
              "input_data does not match this deployment's input schema: " + summary(violations),
              new JsonArray(List.copyOf(violations)));
        }
      }
      return new Call(deployment, plan, input, null);
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
    if (d.executionMode() == ExecutionMode.FAST) {
      if (fast != null) {
        return fast.handle(rc, d, call.inputBytes() != null ? call.inputBytes() : call.input().toBuffer());
      }
      return Future.failedFuture(GatewayException.retryAfter(ErrorCode.SERVICE_UNAVAILABLE,
          "This gateway does not serve fast-mode deployments yet; switch the deployment to sync or async.", 60));
    }
    Prefer prefer = Prefer.of(rc.request());
    boolean async = d.executionMode() == ExecutionMode.ASYNC || prefer.respondAsync();
    String idempotencyKey = IdempotencyStore.validate(rc.request().getHeader(IDEMPOTENCY_KEY));
    String runId = RequestIds.timeOrdered();
    Future<IdempotencyStore.Claim> claim = idempotencyKey == null
        ? Future.succeededFuture(new IdempotencyStore.Claim(true, runId))
        : idempotency.claim(d.profileId(), d.id(), idempotencyKey, IdempotencyStore.fingerprint(call.input()), runId);
    return claim.compose(c -> {
      if (!c.fresh()) {
        return attach(rc, call, c.runId(), async, prefer);
      }
      Future<Void> started = async ? startAsync(rc, call, c.runId(), prefer)
          : startSync(rc, call, c.runId(), prefer, idempotencyKey != null);
      return idempotencyKey == null ? started : started.recover(e -> {
        // Not accepted: let a retry with the same key start over.
        if (e instanceof GatewayException ge && ge.code() == ErrorCode.SERVICE_UNAVAILABLE) {
          idempotency.release(d.profileId(), d.id(), idempotencyKey, c.runId());
        }
        return Future.failedFuture(e);
      });
    });
  }

  /** Async (or {@code Prefer: respond-async}): durably accepted, then 202 at once. */
  private Future<Void> startAsync(RoutingContext rc, Call call, String runId, Prefer prefer) {
    String mode = call.deployment().executionMode() == ExecutionMode.ASYNC ? "async" : "sync";
    return runs.accept(call.deployment(), call.plan(), call.input(), runId, mode, true,
            RequestContext.requestId(rc), rc.get(KEY_ID))
        .onSuccess(v -> {
          if (prefer.respondAsync()) {
            rc.response().putHeader(PREFERENCE_APPLIED, "respond-async");
          }
          accepted(rc, runId, "queued");
        });
  }

  /**
   * Sync: a plain {@code server} run takes the in-process fast path; otherwise the run is accepted (queued, or
   * tracked in-process) and waited for — at most its timeout, or {@code Prefer: wait} seconds, after which the
   * caller gets 202 and the run goes on.
   */
  private Future<Void> startSync(RoutingContext rc, Call call, String runId, Prefer prefer, boolean idempotent) {
    Deployment d = call.deployment();
    // A deployment with a webhook takes the tracked path: its run's transitions record run.started and its end.
    if (d.deploymentType() == DeploymentType.SERVER && prefer.waitSeconds() == null && !idempotent
        && !WebhookEvents.notifies(d.notification())) {
      return runs.runInProcess(d, call.plan(), call.input(), runId, rc.get(KEY_ID)).map(run -> {
        respond(rc, run);
        return null;
      });
    }
    Hold hold = hold(d, prefer);
    return runs.acceptAndAwait(d, call.plan(), call.input(), runId, RequestContext.requestId(rc), hold.hold(),
            rc.get(KEY_ID))
        .compose(run -> respondWhenEnded(rc, runId, run, hold));
  }

  /** A retry with a known Idempotency-Key: the same run, replayed when it has ended, waited for when it has not. */
  private Future<Void> attach(RoutingContext rc, Call call, String runId, boolean async, Prefer prefer) {
    return existingRun(runId, 20).compose(run -> {
      if (run == null) {
        return Future.failedFuture(GatewayException.retryAfter(ErrorCode.CONFLICT,
            "A request with this Idempotency-Key is still being accepted; retry in a moment.", 1));
      }
      if (async) {
        accepted(rc, runId, run.status().wire());
        return Future.succeededFuture();
      }
      return waitAndRespond(rc, call.deployment(), runId, prefer);
    });
  }

  /** The run a concurrent request is creating may take a moment to appear: look a few times, 100 ms apart. */
  private Future<Run> existingRun(String runId, int triesLeft) {
    return runs.find(runId).compose(run -> {
      if (run != null || triesLeft <= 0) {
        return Future.succeededFuture(run);
      }
      io.vertx.core.Promise<Run> later = io.vertx.core.Promise.promise();
      io.vertx.core.Vertx.currentContext().owner().setTimer(100,
          t -> existingRun(runId, triesLeft - 1).onComplete(later));
      return later.future();
    });
  }

  /**
   * How long a sync caller is held: the run's timeout, or less with {@code Prefer: wait}, after which the caller is
   * handed off (202) rather than the run timed out.
   */
  private record Hold(java.time.Duration hold, boolean handOff, java.time.Duration timeout) {}

  private Hold hold(Deployment d, Prefer prefer) {
    java.time.Duration timeout = runs.timeoutOf(d);
    if (prefer.waitSeconds() != null) {
      java.time.Duration wanted = java.time.Duration.ofSeconds(Math.min(prefer.waitSeconds(),
          runs.maxWait().toSeconds()));
      if (wanted.compareTo(timeout) < 0) {
        return new Hold(wanted, true, timeout);
      }
    }
    return new Hold(timeout, false, timeout);
  }

  private Future<Void> waitAndRespond(RoutingContext rc, Deployment d, String runId, Prefer prefer) {
    Hold hold = hold(d, prefer);
    return runs.awaitTerminal(runId, hold.hold()).compose(run -> respondWhenEnded(rc, runId, run, hold));
  }

  private Future<Void> respondWhenEnded(RoutingContext rc, String runId, RunView run, Hold hold) {
    if (run != null && run.status().terminal()) {
      respond(rc, run);
      return Future.succeededFuture();
    }
    if (hold.handOff()) {
      rc.response().putHeader(PREFERENCE_APPLIED, "wait=" + hold.hold().toSeconds());
      accepted(rc, runId, run == null ? "queued" : run.status().wire());
      return Future.succeededFuture();
    }
    return runs.timeOut(runId, hold.timeout()).map(ended -> {
      respond(rc, RunView.of(ended));
      return null;
    });
  }

  /** 202 with the poll location, as aicuflow's async response. */
  static void accepted(RoutingContext rc, String runId, String status) {
    String poll = "/node/flow-runs/" + runId + "/";
    rc.response().putHeader(HttpHeaders.LOCATION, poll);
    Responses.success(rc, 202, new JsonObject()
        .put("flow_run_id", runId)
        .put("status", status)
        .put("message", "Flow execution started. Use the flow_run_id to check status.")
        .put("poll_url", poll));
  }

  static void respond(RoutingContext rc, RunView run) {
    switch (run.status()) {
      case COMPLETED -> Responses.success(rc, 200, run.wire());
      case TIMED_OUT -> rc.fail(GatewayException.withData(ErrorCode.RUN_TIMEOUT,
          "The run passed this deployment's timeout and was stopped; poll /node/flow-runs/" + run.id()
              + "/ for its record, or raise timeout_seconds.",
          run.wireJson()));
      case CANCELLED -> rc.fail(GatewayException.withData(ErrorCode.FLOW_FAILED,
          "The run was cancelled before it completed.", run.wireJson()));
      case FAILED -> {
        JsonObject wire = run.wireJson();
        rc.fail(GatewayException.withData(ErrorCode.FLOW_FAILED, failureMessage(wire.getJsonObject("error")), wire));
      }
      default -> accepted(rc, run.id(), run.status().wire());
    }
  }

  private static String failureMessage(JsonObject error) {
    if (error == null) {
      return "The flow failed.";
    }
    String node = error.getString("node_id");
    String message = error.getString("message", "unknown error");
    return node == null ? "The flow failed: " + message : "The flow failed at node '" + node + "': " + message;
  }

  /** application/json (any parameters, any {@code +json} type); no header at all is accepted as JSON too. */
  static boolean acceptableContentType(HttpServerRequest request) {
    return acceptableContentType(request.getHeader(HttpHeaders.CONTENT_TYPE));
  }

  /** {@link #acceptableContentType(HttpServerRequest)} for the header's value (null when absent). */
  static boolean acceptableContentType(String type) {
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
