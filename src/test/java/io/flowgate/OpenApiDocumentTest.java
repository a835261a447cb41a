package io.flowgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowgate.testsupport.FakeInferenceServer;
import io.flowgate.testsupport.GatewayUnderTest;
import io.flowgate.testsupport.OpenApiValidation;
import io.flowgate.testsupport.TestHttp;
import io.flowgate.testsupport.TestHttp.Reply;
import io.vertx.core.Deployable;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.internal.deployment.DeploymentContext;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.validation.RequestParameter;
import io.vertx.openapi.validation.RequestValidator;
import io.vertx.openapi.validation.ValidatedRequest;
import io.vertx.openapi.validation.impl.RequestParameterImpl;
import io.vertx.openapi.validation.impl.ValidatableRequestImpl;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code GET /openapi.json} and {@code GET /api/v1/deployments/{id}/openapi.json}: both pass a real OpenAPI 3.1
 * validator (the official 3.1 schema, every {@code $ref} resolved: {@link OpenApiValidation}), the whole document
 * covers exactly the routes the running gateway's router serves (so a route added without documentation fails here),
 * its problem schema lists every error code, and a deployment's document types {@code input_data} by its API Input
 * node's schema.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenApiDocumentTest {
  private static final String ADMIN = GatewayUnderTest.ADMIN_TOKEN;
  private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "patch", "head", "options",
      "trace");
  /** input_data's schema: required members, a nested type and a local $ref that must survive the move. */
  private static final JsonObject SCHEMA = new JsonObject()
      .put("type", "object")
      .put("required", new JsonArray().add("amount"))
      .put("properties", new JsonObject()
          .put("amount", new JsonObject().put("type", "number").put("minimum", 0))
          .put("customer", new JsonObject().put("$ref", "#/$defs/customer")))
      .put("$defs", new JsonObject().put("customer", new JsonObject().put("type", "object")
          .put("required", new JsonArray().add("id"))
          .put("properties", new JsonObject().put("id", new JsonObject().put("type", "string")))));
  private static final JsonObject TEST_DATA = new JsonObject().put("amount", 120)
      .put("customer", new JsonObject().put("id", "c-1"));

  private GatewayUnderTest gateway;
  private TestHttp http;
  private FakeInferenceServer inference;
  private String flowId;
  private String serverId;

  @BeforeAll
  void start() {
    gateway = GatewayUnderTest.start(getClass(), 2);
    http = gateway.http();
    inference = FakeInferenceServer.start(gateway.vertx());
    JsonObject flow = new JsonObject().put("name", "scored")
        .put("nodes", new JsonArray()
            .add(new JsonObject().put("id", "input").put("type", "api_input")
                .put("config", new JsonObject().put("test_data", TEST_DATA).put("schema", SCHEMA)))
            .add(new JsonObject().put("id", "output").put("type", "output")))
        .put("edges", new JsonArray().add(new JsonObject().put("from", "input").put("to", "output")));
    flowId = created(http.admin("POST", "/api/v1/flows", flow, ADMIN)).getString("id");
    serverId = created(http.admin("POST", "/api/v1/inference-servers", new JsonObject().put("name", "fake")
        .put("protocol", "passthrough").put("replicas", new JsonArray().add(inference.url())), ADMIN))
        .getString("id");
  }

  @AfterAll
  void stop() {
    if (inference != null) {
      inference.close();
    }
    if (gateway != null) {
      gateway.close();
    }
  }

  private static JsonObject created(Reply reply) {
    assertThat(reply.status()).as(reply.toString()).isEqualTo(201);
    return reply.data();
  }

  private <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private JsonObject wholeDocument() {
    Reply reply = http.send("GET", "/openapi.json", null);
    assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
    assertThat(reply.header("Content-Type")).startsWith("application/json");
    return reply.json();
  }

  @Test
  void the_whole_document_is_valid_openapi_3_1_and_names_the_url_it_was_fetched_from() throws Exception {
    JsonObject doc = wholeDocument();
    assertThat(doc.getString("openapi")).isEqualTo("3.1.0");
    assertThat(doc.getJsonArray("servers").getJsonObject(0).getString("url")).isEqualTo(gateway.baseUrl());
    JsonObject resolved = OpenApiValidation.validate(gateway.vertx(), doc);
    assertThat(resolved.getJsonObject("paths").getJsonObject("/api/v1/flows").getJsonObject("post")
        .getJsonObject("responses").getJsonObject("400").getJsonObject("content").fieldNames())
        .contains("application/problem+json").doesNotContain("application/json");
    OpenAPIContract contract = OpenApiValidation.contract(gateway.vertx(), doc);
    assertThat(contract.operations()).hasSizeGreaterThan(30);
    assertThat(contract.findOperation("/node/deployment-trigger/" + java.util.UUID.randomUUID() + "/",
        HttpMethod.POST).getOperationId()).isEqualTo("triggerDeployment");
  }

  @Test
  void the_validator_refuses_a_broken_document() {
    JsonObject noInfo = wholeDocument();
    noInfo.remove("info");
    assertThatThrownBy(() -> OpenApiValidation.validate(gateway.vertx(), noInfo)).hasMessageContaining("info");
    JsonObject badSchema = wholeDocument();
    badSchema.getJsonObject("components").getJsonObject("schemas").getJsonObject("Run").put("required", "status");
    assertThatThrownBy(() -> OpenApiValidation.validate(gateway.vertx(), badSchema))
        .hasMessageContaining("#/components/schemas/Run");
    JsonObject dangling = wholeDocument();
    dangling.getJsonObject("paths").getJsonObject("/health/live").getJsonObject("get").getJsonObject("responses")
        .put("500", new JsonObject().put("$ref", "#/components/responses/NoSuchResponse"));
    assertThatThrownBy(() -> OpenApiValidation.validate(gateway.vertx(), dangling))
        .hasMessageContaining("NoSuchResponse");
  }

  @Test
  void every_route_the_router_serves_is_documented_and_every_documented_route_is_served() {
    Set<String> served = new TreeSet<>();
    for (Route route : gatewayRouter().getRoutes()) {
      collect(route, "", served);
    }
    Set<String> documented = new TreeSet<>();
    JsonObject paths = wholeDocument().getJsonObject("paths");
    for (String path : paths.fieldNames()) {
      for (String method : paths.getJsonObject(path).fieldNames()) {
        if (METHODS.contains(method)) {
          documented.add(method.toUpperCase(Locale.ROOT) + " " + normalize(path));
        }
      }
    }
    assertThat(served).as("routes registered in the router").isNotEmpty().contains("POST /api/v1/flows",
        "POST /node/deployment-trigger/{deployment_id}", "GET /openapi.json");
    assertThat(documented).as("operations in src/main/resources/openapi/flowgate.yaml: document every route the "
        + "gateway registers, and only those").containsExactlyInAnyOrderElementsOf(served);
  }

  /** The router of one running GatewayVerticle instance (all instances mount the same routes). */
  private Router gatewayRouter() {
    VertxInternal vertx = (VertxInternal) gateway.vertx();
    for (DeploymentContext context : vertx.deploymentManager().deployments()) {
      for (Deployable instance : context.deployment().instances()) {
        if (instance instanceof GatewayVerticle verticle && verticle.router() != null) {
          return verticle.router();
        }
      }
    }
    throw new AssertionError("no GatewayVerticle is deployed");
  }

  /** "METHOD /path/{param}" for each method of {@code route}, descending into mounted sub-routers. */
  private static void collect(Route route, String prefix, Set<String> out) {
    String path = route.getPath();
    if (path == null) {
      return;
    }
    Router sub = route.getSubRouter();
    if (sub != null) {
      String mount = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
      for (Route child : sub.getRoutes()) {
        collect(child, prefix + mount, out);
      }
      return;
    }
    Set<HttpMethod> methods = route.methods();
    if (methods == null || methods.isEmpty()) {
      // A handler for every method under a prefix (e.g. the control plane's cache hook): not an endpoint.
      assertThat(route.isExactPath()).as("route %s%s has no method", prefix, path).isFalse();
      return;
    }
    for (HttpMethod method : methods) {
      out.add(method.name() + " " + normalize(prefix + path));
    }
  }

  /** {@code :id} → {@code {id}}; the trailing slash is optional on every route. */
  private static String normalize(String path) {
    String p = Arrays.stream(path.split("/", -1)).map(s -> s.startsWith(":") ? "{" + s.substring(1) + "}" : s)
        .collect(Collectors.joining("/"));
    return p.length() > 1 && p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
  }

  @Test
  void the_problem_schema_lists_every_error_code() {
    JsonObject problem = wholeDocument().getJsonObject("components").getJsonObject("schemas")
        .getJsonObject("Problem");
    Set<String> documented = new TreeSet<>();
    problem.getJsonObject("properties").getJsonObject("code").getJsonArray("enum").forEach(c -> documented.add(
        (String) c));
    assertThat(documented).containsExactlyInAnyOrderElementsOf(Arrays.stream(ErrorCode.values())
        .map(ErrorCode::code).toList());
    assertThat(problem.getJsonArray("required")).contains("type", "title", "status", "detail", "code", "message");
  }

  @Test
  void the_data_plane_takes_the_api_key_the_control_plane_a_bearer_token_and_ops_nothing() {
    JsonObject doc = wholeDocument();
    JsonObject schemes = doc.getJsonObject("components").getJsonObject("securitySchemes");
    assertThat(schemes.getJsonObject("ApiKey").getMap()).containsEntry("type", "apiKey").containsEntry("in",
        "header").containsEntry("name", "X-API-Key");
    assertThat(schemes.getJsonObject("BearerToken").getMap()).containsEntry("type", "http")
        .containsEntry("scheme", "bearer");
    assertThat(doc.getJsonArray("security")).containsExactly(new JsonObject().put("BearerToken", new JsonArray()));
    JsonObject paths = doc.getJsonObject("paths");
    for (String path : paths.fieldNames()) {
      for (Map.Entry<String, Object> op : paths.getJsonObject(path)) {
        if (!METHODS.contains(op.getKey())) {
          continue;
        }
        JsonArray security = ((JsonObject) op.getValue()).getJsonArray("security");
        String where = op.getKey() + " " + path;
        if (path.startsWith("/node/")) {
          assertThat(security).as(where).containsExactly(new JsonObject().put("ApiKey", new JsonArray()));
        } else if (path.startsWith("/api/v1/")) {
          assertThat(security).as(where + " inherits the bearer token").isNull();
          assertThat(((JsonObject) op.getValue()).getJsonObject("responses").containsKey("401")).as(where).isTrue();
        } else {
          assertThat(security).as(where).isEmpty();
        }
      }
    }
  }

  private JsonObject deploymentDocument(JsonObject settings) throws Exception {
    String id = created(http.admin("POST", "/api/v1/deployments", settings, ADMIN)).getString("id");
    Reply reply = http.admin("GET", "/api/v1/deployments/" + id + "/openapi.json", null, ADMIN);
    assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
    assertThat(reply.header("Content-Type")).startsWith("application/json");
    JsonObject doc = reply.json();
    OpenApiValidation.validate(gateway.vertx(), doc);
    return doc.put("x-deployment-id", id);
  }

  @Test
  void a_sync_deployment_s_document_is_valid_and_types_input_data_by_the_api_input_schema() throws Exception {
    JsonObject doc = deploymentDocument(new JsonObject().put("flow_id", flowId).put("name", "scored-sync"));
    String id = doc.getString("x-deployment-id");
    String trigger = "/node/deployment-trigger/" + id + "/";
    assertThat(doc.getJsonObject("paths").fieldNames()).containsExactlyInAnyOrder(trigger,
        "/node/flow-runs/{flow_run_id}/", "/node/flow-runs/{flow_run_id}/cancel");
    assertThat(doc.getJsonArray("servers").getJsonObject(0).getString("url")).isEqualTo(gateway.baseUrl());
    assertThat(doc.getJsonObject("info").getString("title")).isEqualTo("scored-sync");
    JsonObject schemas = doc.getJsonObject("components").getJsonObject("schemas");
    JsonObject expected = SCHEMA.copy();
    expected.getJsonObject("properties").getJsonObject("customer").put("$ref",
        "#/components/schemas/InputData/$defs/customer");
    assertThat(schemas.getJsonObject("InputData")).isEqualTo(expected);
    assertThat(schemas.getJsonObject("TriggerRequest").getJsonArray("examples"))
        .containsExactly(new JsonObject().put("input_data", TEST_DATA));
    assertThat(doc.getJsonObject("components").getJsonObject("securitySchemes").fieldNames())
        .containsExactly("ApiKey");
    assertThat(doc.getJsonObject("paths").getJsonObject(trigger).getJsonObject("post").getJsonObject("responses")
        .fieldNames()).contains("200", "202", "422", "500", "504").doesNotContain("502");

    OpenAPIContract contract = OpenApiValidation.contract(gateway.vertx(), doc);
    RequestValidator validator = RequestValidator.create(gateway.vertx(), contract);
    ValidatedRequest valid = await(validator.validate(body(new JsonObject().put("input_data", TEST_DATA)),
        "triggerDeployment"));
    assertThat(valid.getBody().getJsonObject()).isEqualTo(new JsonObject().put("input_data", TEST_DATA));
    for (JsonObject bad : new JsonObject[] {
        new JsonObject().put("input_data", new JsonObject().put("amount", "120")),
        new JsonObject().put("input_data", new JsonObject()),
        new JsonObject().put("input_data", new JsonObject().put("amount", 1).put("customer", new JsonObject())),
        new JsonObject().put("input_data", "not an object")}) {
      assertThat(validator.validate(body(bad), "triggerDeployment").toCompletionStage().toCompletableFuture())
          .as("%s", bad).failsWithin(30, TimeUnit.SECONDS);
    }
    // What the document promises is what the gateway does: the test data is accepted, the bad input refused.
    JsonObject key = created(http.admin("POST", "/api/v1/deployments/" + id + "/api-keys", new JsonObject(), ADMIN));
    assertThat(http.trigger(id, key.getString("api_key"), new JsonObject().put("input_data", TEST_DATA).encode())
        .status()).isEqualTo(200);
    assertThat(http.trigger(id, key.getString("api_key"), "{\"input_data\": {\"amount\": \"120\"}}").status())
        .isEqualTo(422);
  }

  private static ValidatableRequestImpl body(JsonObject json) {
    RequestParameter body = new RequestParameterImpl(json.toBuffer());
    return new ValidatableRequestImpl(Map.of(), Map.of(), Map.of(), Map.of(), body, "application/json");
  }

  @Test
  void an_async_deployment_s_document_answers_202_and_has_the_poll_and_cancel_operations() throws Exception {
    JsonObject doc = deploymentDocument(new JsonObject().put("flow_id", flowId).put("execution_mode", "async"));
    String trigger = "/node/deployment-trigger/" + doc.getString("x-deployment-id") + "/";
    JsonObject responses = doc.getJsonObject("paths").getJsonObject(trigger).getJsonObject("post")
        .getJsonObject("responses");
    assertThat(responses.fieldNames()).contains("202", "422").doesNotContain("200", "500", "502", "504");
    assertThat(doc.getJsonObject("paths").fieldNames()).contains("/node/flow-runs/{flow_run_id}/",
        "/node/flow-runs/{flow_run_id}/cancel");
  }

  @Test
  void a_fast_deployment_s_document_answers_the_prediction_and_has_no_runs_to_poll() throws Exception {
    JsonObject doc = deploymentDocument(new JsonObject().put("execution_mode", "fast").put("name", "fast-docs")
        .put("inference_server_id", serverId));
    String trigger = "/node/deployment-trigger/" + doc.getString("x-deployment-id") + "/";
    assertThat(doc.getJsonObject("paths").fieldNames()).containsExactly(trigger);
    JsonObject components = doc.getJsonObject("components");
    assertThat(components.getJsonObject("responses").getJsonObject("TriggerCompleted").getJsonObject("content")
        .getJsonObject("application/json").getJsonObject("schema").getString("$ref"))
        .isEqualTo("#/components/schemas/FastResultEnvelope");
    assertThat(components.getJsonObject("schemas").getJsonObject("InputData"))
        .isEqualTo(new JsonObject().put("type", "object"));
    assertThat(components.getJsonObject("schemas").fieldNames()).doesNotContain("Run", "RunAccepted");
    assertThat(doc.getJsonObject("paths").getJsonObject(trigger).getJsonObject("post").getJsonObject("responses")
        .fieldNames()).contains("200", "502", "503", "504").doesNotContain("202", "500");
  }
}
