package io.flowgate.control;

import io.flowgate.config.GatewayConfig;
import io.flowgate.deployments.ApiKeyRepository;
import io.flowgate.deployments.DeploymentRepository;
import io.flowgate.deployments.FlowRepository;
import io.flowgate.deployments.ProfileRepository;
import io.flowgate.flow.NodeTypes;
import io.flowgate.http.ErrorHandler;
import io.flowgate.inference.InferenceServerRepository;
import io.flowgate.inference.InferenceServers;
import io.flowgate.http.JsonBodies;
import io.flowgate.http.Problems;
import io.flowgate.http.RequestContext;
import io.flowgate.runs.RunHistoryQuery;
import io.flowgate.usage.UsageRecorder;
import io.flowgate.usage.UsageRepository;
import io.flowgate.usage.UsageSeries;
import io.flowgate.webhooks.UrlGuard;
import io.flowgate.webhooks.WebhookDeliveryRepository;
import io.flowgate.webhooks.WebhookEndpointRepository;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.sqlclient.Pool;

/**
 * The control plane {@code /api/v1} (DESIGN §2) as a sub-router, to be mounted with
 * {@code router.route("/api/v1/*").subRouter(ControlApi.router(...))} behind {@code RequestContext::attach} and with
 * {@code ErrorHandler} as the parent's failure handler.
 *
 * <p>Every call needs {@code Authorization: Bearer <token>} (admin token or a profile's {@code mt-…} token) and sees
 * only its profile's resources; another profile's resource is 404 exactly like a missing one. Successes use the
 * envelope {@code {"status": "success", "data": ...}}; lists are {@code {"items": [...]}} inside {@code data};
 * failures are problem+json with the contract codes. Bodies are JSON ({@code Content-Type: application/json}), at
 * most {@value #MAX_BODY_BYTES} bytes.
 * <ul>
 *   <li>{@code POST /profiles} (admin only)</li>
 *   <li>{@code POST|GET /flows}, {@code GET|PUT|DELETE /flows/{id}}</li>
 *   <li>{@code POST|GET /deployments}, {@code GET|PATCH|DELETE /deployments/{id}},
 *       {@code POST /deployments/{id}/redeploy}, {@code POST|GET /deployments/{id}/api-keys}</li>
 *   <li>{@code GET /deployments/{id}/runs} (recent runs, newest first, paged by cursor)</li>
 *   <li>{@code GET /deployments/{id}/usage?window=1h|24h|7d} (calls, errors, latency, queued runs; per key)</li>
 *   <li>{@code GET /deployments/{id}/usage/series?window=1h|24h|7d} (calls, errors, latency per step, for charts)</li>
 *   <li>{@code POST /deployments/{id}/webhook-secret/rotate}, {@code GET /deployments/{id}/webhook-deliveries},
 *       {@code POST /webhook-deliveries/{id}/redeliver}</li>
 *   <li>{@code GET /deployments/{id}/example-code[?format=postman]}, {@code GET /deployments/{id}/openapi.json}
 *       (the integrator's toolkit: snippets, a Postman collection, the deployment's OpenAPI document)</li>
 *   <li>{@code POST|GET /api-keys}, {@code POST /api-keys/{id}/rotate|deactivate|activate},
 *       {@code DELETE /api-keys/{id}}</li>
 *   <li>{@code POST|GET /inference-servers}, {@code GET|PATCH|DELETE /inference-servers/{id}},
 *       {@code POST /inference-servers/{id}/start|stop} (stored, so they act on every node)</li>
 * </ul>
 * Build one router per verticle instance; its handlers run on that instance's event loop. Event-loop only.
 */
public final class ControlApi {
  /** The largest control-plane body (a flow definition), 1 MiB. */
  public static final int MAX_BODY_BYTES = 1024 * 1024;

  private ControlApi() {
  }

  /** The control plane without an inference runtime: inference server reads then say {@code stopped}. */
  public static Router router(Vertx vertx, GatewayConfig config, Pool pool, NodeTypes nodeTypes) {
    return router(vertx, config, pool, nodeTypes, null);
  }

  /** The control plane; {@code inference} is this node's inference runtime (live states, start/stop). */
  public static Router router(Vertx vertx, GatewayConfig config, Pool pool, NodeTypes nodeTypes,
      InferenceServers inference) {
    return router(vertx, config, pool, nodeTypes, inference, null);
  }

  /**
   * The control plane; {@code usage} is this node's usage counter (written before a usage report is read, so that the
   * report includes this node's latest calls), or null.
   */
  public static Router router(Vertx vertx, GatewayConfig config, Pool pool, NodeTypes nodeTypes,
      InferenceServers inference, UsageRecorder usage) {
    ProfileRepository profiles = new ProfileRepository(pool);
    FlowRepository flowRepository = new FlowRepository(pool);
    ApiKeyRepository keyRepository = new ApiKeyRepository(pool);
    DeploymentRepository deploymentRepository = new DeploymentRepository(pool);
    ControlRequests requests = new ControlRequests(new JsonBodies(config.http().maxJsonDepth(), MAX_BODY_BYTES));

    InferenceServerRepository inferenceRepository = new InferenceServerRepository(pool);
    FlowHandlers flows = new FlowHandlers(vertx, nodeTypes, flowRepository, inferenceRepository, requests);
    UrlGuard urlGuard = new UrlGuard(vertx, config.webhooks().allowPrivateNetworks());
    DeploymentHandlers deployments = new DeploymentHandlers(deploymentRepository, keyRepository, requests,
        inferenceRepository, urlGuard);
    WebhookHandlers webhooks = new WebhookHandlers(new WebhookEndpointRepository(pool),
        new WebhookDeliveryRepository(pool), requests, config.webhooks().secretOverlap());
    InferenceServerHandlers inferenceServers = new InferenceServerHandlers(inferenceRepository, inference, requests);
    ApiKeyHandlers keys = new ApiKeyHandlers(keyRepository, requests, config.keys().rotationOverlap());
    UsageHandlers usageHandlers = new UsageHandlers(deploymentRepository, keyRepository, new UsageRepository(pool),
        usage, new UsageSeries(pool));
    ProfileHandlers profileHandlers = new ProfileHandlers(profiles, requests);
    RunHandlers runs = new RunHandlers(deploymentRepository, new RunHistoryQuery(pool));
    IntegrationHandlers integration = new IntegrationHandlers(vertx, config, deploymentRepository, flowRepository,
        keyRepository);

    Router router = Router.router(vertx);
    router.route().handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES));
    router.route().handler(new BearerAuth(config.admin(), profiles));

    router.post("/profiles").handler(profileHandlers::create);

    router.post("/flows").handler(flows::create);
    router.get("/flows").handler(flows::list);
    router.get("/flows/:id").handler(flows::get);
    router.put("/flows/:id").handler(flows::replace);
    router.delete("/flows/:id").handler(flows::delete);

    router.post("/deployments").handler(deployments::create);
    router.get("/deployments").handler(deployments::list);
    router.get("/deployments/:id").handler(deployments::get);
    router.patch("/deployments/:id").handler(deployments::patch);
    router.delete("/deployments/:id").handler(deployments::delete);
    router.post("/deployments/:id/redeploy").handler(deployments::redeploy);
    router.post("/deployments/:id/api-keys").handler(deployments::createKey);
    router.get("/deployments/:id/api-keys").handler(deployments::listKeys);
    router.get("/deployments/:id/runs").handler(runs::list);
    router.get("/deployments/:id/usage").handler(usageHandlers::get);
    router.get("/deployments/:id/usage/series").handler(usageHandlers::series);
    router.post("/deployments/:id/webhook-secret/rotate").handler(webhooks::rotate);
    router.get("/deployments/:id/webhook-deliveries").handler(webhooks::list);
    router.post("/webhook-deliveries/:id/redeliver").handler(webhooks::redeliver);
    router.get("/deployments/:id/example-code").handler(integration::exampleCode);
    router.get("/deployments/:id/openapi.json").handler(integration::openApi);

    router.post("/api-keys").handler(keys::create);
    router.get("/api-keys").handler(keys::list);
    router.post("/api-keys/:id/rotate").handler(keys::rotate);
    router.post("/api-keys/:id/deactivate").handler(keys::deactivate);
    router.post("/api-keys/:id/activate").handler(keys::activate);
    router.delete("/api-keys/:id").handler(keys::delete);

    router.post("/inference-servers").handler(inferenceServers::create);
    router.get("/inference-servers").handler(inferenceServers::list);
    router.get("/inference-servers/:id").handler(inferenceServers::get);
    router.patch("/inference-servers/:id").handler(inferenceServers::patch);
    router.delete("/inference-servers/:id").handler(inferenceServers::delete);
    router.post("/inference-servers/:id/start").handler(inferenceServers::start);
    router.post("/inference-servers/:id/stop").handler(inferenceServers::stop);

    // Unknown paths and methods answer problem+json like every other control-plane error, not Vert.x Web's HTML.
    router.errorHandler(404, rc -> unrouted(rc, 404));
    router.errorHandler(405, rc -> unrouted(rc, 405));
    return router;
  }

  private static void unrouted(RoutingContext rc, int status) {
    Problems.send(rc.response(), ErrorHandler.toGatewayException(null, status, rc), RequestContext.requestId(rc));
  }
}
