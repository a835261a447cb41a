package io.flowgate;

import io.flowgate.config.GatewayConfig;
import io.flowgate.console.ConsoleAssets;
import io.flowgate.console.ConsoleHandler;
import io.flowgate.control.IntegrationHandlers;
import io.flowgate.http.ErrorHandler;
import io.flowgate.http.Problems;
import io.flowgate.http.RequestContext;
import io.flowgate.http.RequestIds;
import io.flowgate.http.Responses;
import io.flowgate.trigger.FastLane;
import io.flowgate.trigger.FlowRunsHandler;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.micrometer.PrometheusScrapingHandler;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The HTTP server of the gateway, one instance per event loop: mounts the trigger and flow-run routes, the control
 * plane, health, metrics, the OpenAPI document and the web console on one router, with one failure handler that
 * renders every error as problem+json.
 * Event-loop only.
 */
public final class GatewayVerticle extends VerticleBase {
  private final GatewayConfig config;
  private final Handler<RoutingContext> trigger;
  private final FlowRunsHandler flowRuns;
  private final Supplier<Router> controlApi;
  private final Handler<RoutingContext> controlWrites;
  private final Supplier<Future<Void>> readiness;
  private final int port;
  private final PrometheusMeterRegistry registry;
  private final ConsoleAssets console;
  private final FastLane lane;
  private HttpServer server;
  private Router router;

  GatewayVerticle(GatewayConfig config, Handler<RoutingContext> trigger, FlowRunsHandler flowRuns,
      Supplier<Router> controlApi, Handler<RoutingContext> controlWrites, Supplier<Future<Void>> readiness, int port,
      PrometheusMeterRegistry registry, ConsoleAssets console, FastLane lane) {
    this.console = console;
    this.lane = lane;
    this.controlWrites = controlWrites;
    this.registry = registry;
    this.config = config;
    this.trigger = trigger;
    this.flowRuns = flowRuns;
    this.controlApi = controlApi;
    this.readiness = readiness;
    this.port = port;
  }

  @Override
  public Future<?> start() {
    router = Router.router(vertx);
    router.route().handler(RequestContext::attach);

    router.post("/node/deployment-trigger/:deployment_id").handler(trigger);
    router.post("/node/deployment-trigger/:deployment_id/").handler(trigger);
    router.get("/node/flow-runs/:flow_run_id").handler(flowRuns.poll());
    router.post("/node/flow-runs/:flow_run_id/cancel").handler(flowRuns.cancel());

    router.route("/api/v1/*").handler(controlWrites);
    router.route("/api/v1/*").subRouter(controlApi.get());

    router.get("/health/live").handler(rc -> Responses.success(rc, 200, new JsonObject().put("live", true)));
    router.get("/health/ready").handler(rc -> readiness.get()
        .timeout(2, TimeUnit.SECONDS)
        .onSuccess(v -> Responses.success(rc, 200, new JsonObject().put("ready", true)))
        .onFailure(e -> rc.fail(GatewayException.retryAfter(ErrorCode.SERVICE_UNAVAILABLE,
            "flowgate cannot reach Redis or PostgreSQL yet; retry in a few seconds.", 2))));
    router.get("/metrics").handler(PrometheusScrapingHandler.create(registry));
    router.get("/openapi.json").handler(IntegrationHandlers.wholeApi(vertx, config));
    // Static pages, not API operations: a route for every method (the handler answers 405 to all but GET and HEAD).
    router.route(ConsoleHandler.PATH + "*").handler(new ConsoleHandler(console));

    ErrorHandler errors = new ErrorHandler();
    router.route().failureHandler(errors);
    for (int status : new int[] {400, 404, 405, 413, 415, 431, 500}) {
      router.errorHandler(status, errors);
    }

    GatewayConfig.Http http = config.http();
    HttpServerOptions options = new HttpServerOptions()
        .setHost(http.host())
        .setPort(port)
        .setMaxHeaderSize(http.maxHeaderBytes())
        .setMaxInitialLineLength(4096)
        .setIdleTimeout((int) http.idleTimeout().toSeconds())
        .setIdleTimeoutUnit(TimeUnit.SECONDS)
        .setTcpNoDelay(true)
        .setReusePort(true)
        // No WebSocket endpoints: without these, Netty's WebSocket extension handler looks at every response.
        .setPerMessageWebSocketCompressionSupported(false)
        .setPerFrameWebSocketCompressionSupported(false);
    server = vertx.createHttpServer(options)
        .invalidRequestHandler(GatewayVerticle::invalidRequest)
        .requestHandler(router);
    if (lane != null) {
      server.connectionHandler(lane::install);
    }
    return server.listen();
  }

  /** Requests Netty could not parse (oversized headers or line, broken framing): problem+json, then close. */
  private static void invalidRequest(HttpServerRequest request) {
    io.netty.handler.codec.DecoderResult result = request.decoderResult();
    Throwable cause = result == null ? null : result.cause();
    GatewayException e;
    if (cause instanceof io.netty.handler.codec.TooLongFrameException
        && cause.getMessage() != null && cause.getMessage().contains("header")) {
      e = new GatewayException(ErrorCode.HEADERS_TOO_LARGE,
          "The request headers are larger than this gateway accepts; send fewer or smaller headers.");
    } else if (cause instanceof io.netty.handler.codec.TooLongFrameException) {
      e = new GatewayException(ErrorCode.INVALID_REQUEST, "The request line is too long; shorten the URL.");
    } else {
      e = new GatewayException(ErrorCode.INVALID_REQUEST, "The HTTP request is malformed.");
    }
    request.response().putHeader("Connection", "close");
    Problems.send(request.response(), e, RequestIds.random());
    request.connection().close();
  }

  /** The routes this instance serves (tests check each is in the OpenAPI document). */
  Router router() {
    return router;
  }

  /** The port actually bound. */
  int actualPort() {
    return server.actualPort();
  }

  @Override
  public Future<?> stop() {
    if (server == null) {
      return Future.succeededFuture();
    }
    long grace = config.http().shutdownGrace().toMillis();
    if (lane == null) {
      return server.shutdown(grace, TimeUnit.MILLISECONDS);
    }
    // Vert.x waits for the requests it holds, not for the Fast Mode lane's: those are waited for first, within the
    // same grace, while the lane takes nothing new (new requests go to the router meanwhile).
    lane.close();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(grace);
    Promise<Void> drained = Promise.promise();
    awaitLane(deadline, drained);
    return drained.future().compose(v -> server.shutdown(
        Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())), TimeUnit.MILLISECONDS));
  }

  private void awaitLane(long deadline, Promise<Void> drained) {
    if (lane.inFlight() == 0 || deadline - System.nanoTime() <= 0) {
      drained.complete();
    } else {
      vertx.setTimer(10, t -> awaitLane(deadline, drained));
    }
  }
}
