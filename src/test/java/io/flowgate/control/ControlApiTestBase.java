package io.flowgate.control;

import static io.flowgate.deployments.DbFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.config.GatewayConfig;
import io.flowgate.deployments.DbFixture;
import io.flowgate.flow.NodeTypes;
import io.flowgate.http.ErrorHandler;
import io.flowgate.http.RequestContext;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Pool;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A real HTTP server on port 0 with the control plane mounted the way GatewayVerticle mounts it, on a fresh database
 * of the test class, plus a blocking client for the JUnit thread.
 */
@ExtendWith(VertxExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ControlApiTestBase {
  static final String ADMIN_TOKEN = "admin-token-for-tests-0123456789";

  Vertx vertx;
  Pool pool;
  NodeTypes nodeTypes;
  HttpServer server;
  WebClient client;

  /** The admin token the server is configured with ("" = none). */
  String adminToken() {
    return ADMIN_TOKEN;
  }

  @BeforeAll
  void startServer(Vertx vertx) {
    this.vertx = vertx;
    pool = DbFixture.pool(vertx, getClass());
    nodeTypes = DbFixture.nodeTypes(vertx);
    Router router = Router.router(vertx);
    router.route().handler(RequestContext::attach);
    router.route("/api/v1/*").subRouter(ControlApi.router(vertx, config(adminToken()), pool, nodeTypes));
    router.route().failureHandler(new ErrorHandler());
    server = await(vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1"));
    client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
        .setDefaultPort(server.actualPort()));
  }

  @AfterAll
  void stopServer() {
    client.close();
    await(server.close());
    await(pool.close());
  }

  static GatewayConfig config(String adminToken) {
    return new GatewayConfig(
        new GatewayConfig.Http("127.0.0.1", 0, 1, 1 << 20, 8192, 64, Duration.ofSeconds(60), Duration.ofSeconds(1)),
        new GatewayConfig.Admin(adminToken),
        new GatewayConfig.Node("test"),
        new GatewayConfig.Data(Path.of("target", "unused")),
        new GatewayConfig.Redis("redis://127.0.0.1:1", "fgtest:", 1, Duration.ofSeconds(1)),
        new GatewayConfig.Pg("postgresql://127.0.0.1:1/unused", 1, Duration.ofSeconds(5)),
        new GatewayConfig.Runs(Duration.ofSeconds(60), Duration.ofSeconds(60), Duration.ofSeconds(60), 1, Duration.ofSeconds(1),
            Duration.ofMillis(200), 10, Duration.ofSeconds(30), Duration.ofSeconds(5), 5, Duration.ofSeconds(10),
            Duration.ofSeconds(30), Duration.ofSeconds(1), Duration.ofSeconds(60)),
        new GatewayConfig.Flows(Duration.ofMillis(250), 200, Duration.ofSeconds(5), 1 << 20),
        new GatewayConfig.Cache(Duration.ofSeconds(60)),
        new GatewayConfig.Declarations(Path.of("target", "unused")),
        new GatewayConfig.Logging(false));
  }

  /** A response, read whole. */
  record Reply(int status, MultiMap headers, Buffer body) {
    JsonObject json() {
      return body == null || body.length() == 0 ? null : new JsonObject(body);
    }

    /** The success envelope's {@code data}, asserting the envelope. */
    JsonObject data() {
      JsonObject json = json();
      assertThat(json.getString("status")).as("envelope of %s", body).isEqualTo("success");
      assertThat(headers.get("Content-Type")).startsWith("application/json");
      return json.getJsonObject("data");
    }

    /** The problem's {@code code}, asserting problem+json with the contract members. */
    String problemCode() {
      assertThat(headers.get("Content-Type")).as("content type of %s", body).isEqualTo("application/problem+json");
      JsonObject json = json();
      assertThat(json.getInteger("status")).isEqualTo(status);
      assertThat(json.getString("type")).isEqualTo("urn:flowgate:error:" + json.getString("code"));
      assertThat(json.getString("message")).isEqualTo(json.getString("detail")).isNotBlank();
      return json.getString("code");
    }

    String message() {
      return json().getString("message");
    }
  }

  Reply call(HttpMethod method, String path, String token) {
    return send(request(method, path, token), null, null);
  }

  Reply call(HttpMethod method, String path, String token, JsonObject body) {
    return send(request(method, path, token), body == null ? null : body.toBuffer(), "application/json");
  }

  Reply callRaw(HttpMethod method, String path, String token, String body, String contentType) {
    return send(request(method, path, token), Buffer.buffer(body), contentType);
  }

  Reply admin(HttpMethod method, String path, JsonObject body) {
    return call(method, path, ADMIN_TOKEN, body);
  }

  Reply admin(HttpMethod method, String path) {
    return call(method, path, ADMIN_TOKEN);
  }

  private HttpRequest<Buffer> request(HttpMethod method, String path, String token) {
    HttpRequest<Buffer> request = client.request(method, "/api/v1" + path).timeout(10_000);
    if (token != null) {
      request.putHeader("Authorization", "Bearer " + token);
    }
    return request;
  }

  private static Reply send(HttpRequest<Buffer> request, Buffer body, String contentType) {
    if (contentType != null) {
      request.putHeader("Content-Type", contentType);
    }
    HttpResponse<Buffer> response = await(body == null ? request.send() : request.sendBuffer(body));
    return new Reply(response.statusCode(), response.headers(), response.body());
  }

  /** Creates a profile with the admin token; its mt- token. */
  String newProfileToken(String name) {
    Reply reply = admin(HttpMethod.POST, "/profiles", new JsonObject().put("name", name));
    assertThat(reply.status()).as("creating profile: %s", reply.body()).isEqualTo(201);
    return reply.data().getString("token");
  }

  /** Creates a flow with {@code token}; its id. */
  String newFlow(String token, JsonObject flow) {
    Reply reply = call(HttpMethod.POST, "/flows", token, flow);
    assertThat(reply.status()).as("creating flow: %s", reply.body()).isEqualTo(201);
    return reply.data().getString("id");
  }

  /** Creates a deployment of {@code flowId} with {@code token}; the whole reply data. */
  JsonObject newDeployment(String token, String flowId) {
    Reply reply = call(HttpMethod.POST, "/deployments", token, new JsonObject().put("flow_id", flowId));
    assertThat(reply.status()).as("creating deployment: %s", reply.body()).isEqualTo(201);
    return reply.data();
  }
}
