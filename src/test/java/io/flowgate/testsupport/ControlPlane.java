package io.flowgate.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.testsupport.TestHttp.Reply;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Flows and control-plane calls (with the admin token of {@link GatewayUnderTest}) for tests that drive a whole
 * gateway: the lifecycle, rate-limit and usage tests. Blocking; JUnit thread only.
 */
public final class ControlPlane {
  public static final String TOKEN = GatewayUnderTest.ADMIN_TOKEN;

  private ControlPlane() {
  }

  /**
   * api_input (requiring a number {@code n}) → delay {@code ms} → output {@code {"version": version, "n": n}}: a flow
   * whose output says which version ran.
   */
  public static JsonObject versionedFlow(String name, int version, int ms) {
    return new JsonObject().put("name", name)
        .put("nodes", new JsonArray()
            .add(new JsonObject().put("id", "input").put("type", "api_input").put("config", new JsonObject()
                .put("test_data", new JsonObject().put("n", 1))
                .put("schema", new JsonObject().put("type", "object").put("required", new JsonArray().add("n"))
                    .put("properties", new JsonObject().put("n", new JsonObject().put("type", "number"))))))
            .add(new JsonObject().put("id", "wait").put("type", "delay").put("config", new JsonObject().put("ms", ms)))
            .add(new JsonObject().put("id", "output").put("type", "output").put("config", new JsonObject()
                .put("expression", "{\"version\": " + version + ", \"n\": $input.n}"))))
        .put("edges", new JsonArray()
            .add(new JsonObject().put("from", "input").put("to", "wait"))
            .add(new JsonObject().put("from", "wait").put("to", "output")));
  }

  /** Creates a flow; its id. */
  public static String createFlow(TestHttp http, JsonObject flow) {
    Reply created = http.admin("POST", "/api/v1/flows", flow, TOKEN);
    assertThat(created.status()).as(created.toString()).isEqualTo(201);
    return created.data().getString("id");
  }

  /** Creates a deployment with {@code settings}; the reply's data (with {@code api_key}, shown once). */
  public static JsonObject createDeployment(TestHttp http, JsonObject settings) {
    Reply created = http.admin("POST", "/api/v1/deployments", settings, TOKEN);
    assertThat(created.status()).as(created.toString()).isEqualTo(201);
    return created.data();
  }

  /** A control-plane call that must succeed with {@code status}; its data. */
  public static JsonObject ok(TestHttp http, String method, String path, JsonObject body, int status) {
    Reply reply = http.admin(method, path, body, TOKEN);
    assertThat(reply.status()).as("%s %s: %s", method, path, reply).isEqualTo(status);
    return reply.data();
  }

  /** The problem's code, checking the answer is problem+json with the contract members. */
  public static String problemCode(Reply reply) {
    assertThat(reply.header("Content-Type")).as(reply.toString()).isEqualTo("application/problem+json");
    JsonObject problem = reply.json();
    assertThat(problem.getInteger("status")).isEqualTo(reply.status());
    assertThat(problem.getString("message")).isNotBlank();
    return problem.getString("code");
  }
}
