package io.flowgate.control;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.config.GatewayConfig;
import io.flowgate.deployments.ApiKey;
import io.flowgate.deployments.ApiKeyRepository;
import io.flowgate.deployments.DeploymentRepository;
import io.flowgate.deployments.FlowRepository;
import io.flowgate.http.Problems;
import io.flowgate.http.RequestContext;
import io.flowgate.http.Responses;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * The integrator's toolkit for one of the caller's deployments: {@code GET /deployments/{id}/example-code} (cURL,
 * Python and JavaScript snippets in the envelope, or with {@code ?format=postman} a Postman Collection v2.1) and
 * {@code GET /deployments/{id}/openapi.json}; plus the whole API's document at {@code GET /openapi.json}. Documents
 * and collections are sent as they are, not enveloped, so that tools read them directly. Event-loop only; documents
 * are built on worker threads.
 */
public final class IntegrationHandlers {
  static final String FORMAT_POSTMAN = "postman";
  private static final String CACHE_CONTROL_NO_STORE = "no-store";

  private final Vertx vertx;
  private final GatewayConfig config;
  private final DeploymentRepository deployments;
  private final FlowRepository flows;
  private final ApiKeyRepository keys;

  IntegrationHandlers(Vertx vertx, GatewayConfig config, DeploymentRepository deployments, FlowRepository flows,
      ApiKeyRepository keys) {
    this.vertx = vertx;
    this.config = config;
    this.deployments = deployments;
    this.flows = flows;
    this.keys = keys;
  }

  /** {@code GET /openapi.json}: the whole API, its {@code servers} naming the URL the caller reached. */
  public static Handler<RoutingContext> wholeApi(Vertx vertx, GatewayConfig config) {
    return rc -> {
      String baseUrl = PublicUrl.of(config.http().publicUrl(), rc.request());
      vertx.executeBlocking(() -> OpenApiDocuments.wholeFor(baseUrl).toBuffer(), false)
          .onSuccess(doc -> sendDocument(rc, doc, null))
          .onFailure(rc::fail);
    };
  }

  /**
   * {@code GET /deployments/{id}/example-code[?format=postman]}: the snippets in the envelope
   * ({@code {"curl", "python", "javascript", ...}}), or the Postman collection itself.
   */
  void exampleCode(RoutingContext rc) {
    boolean postman;
    UUID id;
    try {
      postman = format(rc.queryParam("format"));
      id = ControlRequests.pathId(rc, "id", "deployment");
    } catch (GatewayException e) {
      rc.fail(e);
      return;
    }
    integration(rc, id)
        .compose(d -> vertx.executeBlocking(() -> postman ? PostmanCollection.of(d).toBuffer()
            : exampleCodeJson(d), false))
        .onSuccess(body -> {
          if (postman) {
            sendDocument(rc, body, "flowgate-" + id + ".postman_collection.json");
          } else {
            Responses.success(rc, 200, body);
          }
        })
        .onFailure(rc::fail);
  }

  /** {@code GET /deployments/{id}/openapi.json}: the deployment's own OpenAPI 3.1 document. */
  void openApi(RoutingContext rc) {
    UUID id;
    try {
      id = ControlRequests.pathId(rc, "id", "deployment");
    } catch (GatewayException e) {
      rc.fail(e);
      return;
    }
    integration(rc, id)
        .compose(d -> vertx.executeBlocking(() -> OpenApiDocuments.deployment(d).toBuffer(), false))
        .onSuccess(doc -> sendDocument(rc, doc, null))
        .onFailure(rc::fail);
  }

  /** {@code format}: absent for the snippets, {@code postman} for the collection; anything else is 400. */
  static boolean format(List<String> values) {
    if (values.isEmpty()) {
      return false;
    }
    if (values.size() == 1 && values.get(0).equals(FORMAT_POSTMAN)) {
      return true;
    }
    String got = values.size() > 1 ? "it " + values.size() + " times" : "\"" + shorten(values.get(0)) + "\"";
    throw new GatewayException(ErrorCode.INVALID_REQUEST, "\"format\" must be postman (a Postman Collection v2.1), or "
        + "left out for the cURL, Python and JavaScript snippets; got " + got + ".");
  }

  private static String shorten(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "…" : s;
  }

  private Buffer exampleCodeJson(Integration d) {
    return new JsonObject()
        .put("deployment_id", d.deploymentId().toString())
        .put("name", d.name())
        .put("execution_mode", d.mode().wire())
        .put("deployment_type", d.type().wire())
        .put("url", d.triggerUrl())
        .put("api_key_masked", d.maskedKey())
        .put("input_data", d.testData())
        .mergeIn(ExampleCode.snippets(d))
        .toBuffer();
  }

  /** What the artifacts need about the caller's deployment {@code id}; 404 {@code not_found} when it has none. */
  private Future<Integration> integration(RoutingContext rc, UUID id) {
    UUID profileId = Caller.of(rc).profileId();
    String baseUrl = PublicUrl.of(config.http().publicUrl(), rc.request());
    return deployments.get(profileId, id).compose(d -> {
      if (d == null) {
        return Future.failedFuture(DeploymentHandlers.notFound(id));
      }
      Future<JsonObject> definition = d.flowId() == null || d.flowVersion() == null ? Future.succeededFuture()
          : flows.findVersion(d.flowId(), d.flowVersion());
      return Future.all(definition, shownKey(profileId, id)).map(all -> {
        JsonObject input = apiInputConfig(all.resultAt(0));
        ApiKey key = all.resultAt(1);
        Object testData = input.getValue("test_data");
        int timeout = d.timeoutSeconds() != null ? d.timeoutSeconds()
            : (int) config.runs().defaultTimeout().toSeconds();
        return new Integration(d.id(), d.name(), d.executionMode(), d.deploymentType(), d.flowVersion(), baseUrl,
            key == null ? null : key.masked(), testData instanceof JsonObject t ? t : new JsonObject(),
            input.getValue("schema"), timeout, d.rateLimit() != null);
      });
    });
  }

  /** The API Input node's config in a flow definition ({@code {}} when there is none). */
  static JsonObject apiInputConfig(JsonObject definition) {
    if (definition == null) {
      return new JsonObject();
    }
    JsonArray nodes = definition.getJsonArray("nodes", new JsonArray());
    for (Object node : nodes) {
      if (node instanceof JsonObject n && "api_input".equals(n.getString("type"))) {
        JsonObject config = n.getJsonObject("config");
        return config == null ? new JsonObject() : config;
      }
    }
    return new JsonObject();
  }

  /**
   * The key the snippets show (masked): the newest usable key scoped to the deployment, else the profile's newest
   * usable profile-wide key, else none.
   */
  private Future<ApiKey> shownKey(UUID profileId, UUID deploymentId) {
    Instant now = Instant.now();
    return keys.listForDeployment(profileId, deploymentId).compose(scoped -> {
      ApiKey newest = newestUsable(scoped, now);
      if (newest != null) {
        return Future.succeededFuture(newest);
      }
      return keys.list(profileId).map(all -> newestUsable(all.stream().filter(k -> k.deploymentId() == null)
          .toList(), now));
    });
  }

  private static ApiKey newestUsable(List<ApiKey> oldestFirst, Instant now) {
    for (int i = oldestFirst.size() - 1; i >= 0; i--) {
      if (oldestFirst.get(i).usableAt(now)) {
        return oldestFirst.get(i);
      }
    }
    return null;
  }

  private static void sendDocument(RoutingContext rc, Buffer body, String attachmentName) {
    var response = rc.response();
    if (response.ended()) {
      return;
    }
    response.headers()
        .set(HttpHeaders.CONTENT_TYPE, "application/json")
        .set(HttpHeaders.CACHE_CONTROL, CACHE_CONTROL_NO_STORE)
        .set(Problems.X_REQUEST_ID, RequestContext.requestId(rc));
    if (attachmentName != null) {
      response.headers().set("Content-Disposition", "inline; filename=\"" + attachmentName + "\"");
    }
    response.setStatusCode(200).end(body);
  }
}
