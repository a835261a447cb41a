package io.flowgate.trigger;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.testsupport.FakeInferenceServer;
import io.flowgate.testsupport.FakeInferenceServer.Mode;
import io.flowgate.testsupport.GatewayUnderTest;
import io.flowgate.testsupport.TestHttp;
import io.flowgate.testsupport.TestHttp.Reply;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The {@code inference} node end to end (DESIGN §2.2) through a whole gateway on real Redis and PostgreSQL: flows
 * {@code api_input → inference → output} against a fake inference server for both protocols and both deployment
 * types, the {@code input} expression shaping the request, inference failures failing the run at the node, flow
 * validation (config, and servers of the flow's profile only) and the run-time ownership rule.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InferenceNodeApiTest {
  private static final String ADMIN = GatewayUnderTest.ADMIN_TOKEN;

  private GatewayUnderTest gateway;
  private TestHttp http;
  private final List<FakeInferenceServer> fakes = new ArrayList<>();

  @BeforeAll
  void start() {
    gateway = GatewayUnderTest.start(GatewayUnderTest.Backing.fresh(getClass()), 2,
        Map.of("FLOWGATE_INFERENCE_HEALTH_INTERVAL_MS", "100"));
    http = gateway.http();
  }

  @AfterAll
  void stop() {
    // The fakes run on the gateway's Vert.x: stop them first.
    fakes.forEach(FakeInferenceServer::close);
    if (gateway != null) {
      gateway.close();
    }
  }

  record Deployed(String id, String apiKey) {}

  private FakeInferenceServer fake() {
    FakeInferenceServer fake = FakeInferenceServer.start(gateway.vertx());
    fakes.add(fake);
    return fake;
  }

  private String createServer(String name, String protocol, String url, String token) {
    JsonObject body = new JsonObject().put("name", name).put("protocol", protocol)
        .put("replicas", new JsonArray().add(url));
    if (protocol.equals("open_inference_v2")) {
      body.put("model", "iris");
    }
    Reply r = http.admin("POST", "/api/v1/inference-servers", body, token);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.data().getString("id");
  }

  private static JsonObject node(String id, String type, JsonObject config) {
    return new JsonObject().put("id", id).put("type", type).put("config", config);
  }

  /** {@code input → score (inference) → output}. */
  private static JsonObject flow(JsonObject inferenceConfig) {
    return new JsonObject().put("name", "score-" + UUID.randomUUID().toString().substring(0, 6))
        .put("nodes", new JsonArray()
            .add(node("input", "api_input", new JsonObject()))
            .add(node("score", "inference", inferenceConfig))
            .add(node("output", "output", new JsonObject())))
        .put("edges", new JsonArray()
            .add(new JsonObject().put("from", "input").put("to", "score"))
            .add(new JsonObject().put("from", "score").put("to", "output")));
  }

  private static JsonObject calling(String serverId) {
    return new JsonObject().put("inference_server_id", serverId);
  }

  private String createFlow(JsonObject flow, String token) {
    Reply r = http.admin("POST", "/api/v1/flows", flow, token);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.data().getString("id");
  }

  private Deployed deploy(String flowId, String type, String token) {
    Reply r = http.admin("POST", "/api/v1/deployments", new JsonObject().put("flow_id", flowId)
        .put("deployment_type", type), token);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return new Deployed(r.data().getString("id"), r.data().getString("api_key"));
  }

  private Deployed deploy(String flowId, String type) {
    return deploy(flowId, type, ADMIN);
  }

  private Reply trigger(Deployed d, JsonObject inputData) {
    return http.trigger(d.id(), d.apiKey(), new JsonObject().put("input_data", inputData).encode());
  }

  private String otherProfileToken() {
    Reply profile = http.admin("POST", "/api/v1/profiles", new JsonObject().put("name", "other-" + UUID.randomUUID()
        .toString().substring(0, 8)), ADMIN);
    assertThat(profile.status()).as(profile.toString()).isEqualTo(201);
    return profile.data().getString("token");
  }

  private static void assertProblem(Reply r, int status, String code) {
    assertThat(r.status()).as(r.toString()).isEqualTo(status);
    assertThat(r.header("Content-Type")).startsWith("application/problem+json");
    assertThat(r.json().getString("code")).isEqualTo(code);
    assertThat(r.body()).doesNotContain("Exception");
  }

  /** A sync run that failed at {@code nodeId}: 500 flow_failed; returns the error's message. */
  private static String failedAt(Reply r, String nodeId) {
    assertProblem(r, 500, "flow_failed");
    JsonObject data = r.json().getJsonObject("data");
    assertThat(data.getString("status")).isEqualTo("failed");
    assertThat(data.getJsonObject("error").getString("node_id")).isEqualTo(nodeId);
    assertThat(data.getJsonObject("node_outputs").getJsonObject(nodeId).getString("status")).isEqualTo("failed");
    assertThat(data.getJsonObject("node_outputs").containsKey("output")).isFalse();
    return data.getJsonObject("error").getString("message");
  }

  @Test
  void a_passthrough_server_answers_through_the_node_for_both_deployment_types() {
    FakeInferenceServer fake = fake();
    String serverId = createServer("iris-pass", "passthrough", fake.url(), ADMIN);
    String flowId = createFlow(flow(calling(serverId)), ADMIN);
    JsonObject input = new JsonObject().put("features", new JsonArray().add(5.1).add(3.5).add(1.4).add(0.2));
    for (String type : new String[] {"server", "api"}) {
      Deployed d = deploy(flowId, type);
      Reply r = trigger(d, input);
      assertThat(r.status()).as(type + ": " + r).isEqualTo(200);
      JsonObject data = r.data();
      assertThat(data.getString("status")).isEqualTo("completed");
      JsonObject prediction = new JsonObject().put("label", "setosa").put("received", input);
      assertThat(data.getJsonObject("output_data")).isEqualTo(prediction);
      JsonObject score = data.getJsonObject("node_outputs").getJsonObject("score");
      assertThat(score.getString("status")).isEqualTo("completed");
      assertThat(score.getJsonObject("output")).isEqualTo(prediction);
      assertThat(fake.lastBody()).isEqualTo(input);
    }
    assertThat(fake.predictions()).isEqualTo(2);
  }

  @Test
  void an_open_inference_server_gets_a_tensor_shaped_by_the_input_expression() {
    FakeInferenceServer fake = fake();
    String serverId = createServer("iris-oip", "open_inference_v2", fake.url(), ADMIN);
    String flowId = createFlow(flow(calling(serverId).put("input",
        "{\"features\": [sepal_length, sepal_width, petal_length, petal_width]}")), ADMIN);
    Deployed d = deploy(flowId, "server");
    Reply r = trigger(d, new JsonObject().put("sepal_length", 5.1).put("sepal_width", 3.5)
        .put("petal_length", 1.4).put("petal_width", 0.2).put("customer", "c-17"));
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    JsonObject out = r.data().getJsonObject("output_data");
    assertThat(out.getJsonArray("label")).containsExactly("setosa");
    assertThat(out.getJsonArray("probabilities").getJsonArray(0)).hasSize(3);
    assertThat(out.getString("model_name")).isEqualTo("iris");
    JsonObject tensor = fake.lastBody().getJsonArray("inputs").getJsonObject(0);
    assertThat(tensor.getJsonArray("shape")).containsExactly(1, 4);
    assertThat(tensor.getJsonArray("data").encode()).isEqualTo("[5.1,3.5,1.4,0.2]");
  }

  @Test
  void the_input_expression_shapes_the_passthrough_request_from_input_and_nodes() {
    FakeInferenceServer fake = fake();
    String serverId = createServer("shaped", "passthrough", fake.url(), ADMIN);
    String flowId = createFlow(flow(calling(serverId).put("input",
        "{\"x\": $.a * 2, \"who\": $input.name, \"again\": $nodes.input.name}")), ADMIN);
    Reply r = trigger(deploy(flowId, "server"), new JsonObject().put("a", 21).put("name", "ada"));
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    JsonObject sent = new JsonObject().put("x", 42).put("who", "ada").put("again", "ada");
    assertThat(fake.lastBody()).isEqualTo(sent);
    assertThat(r.data().getJsonObject("output_data").getJsonObject("received")).isEqualTo(sent);
  }

  @Test
  void an_input_expression_that_is_not_an_object_fails_the_run_at_the_node_without_calling_the_server() {
    FakeInferenceServer fake = fake();
    String serverId = createServer("not-object", "passthrough", fake.url(), ADMIN);
    String flowId = createFlow(flow(calling(serverId).put("input", "$.values")), ADMIN);
    Reply r = trigger(deploy(flowId, "server"), new JsonObject().put("values", new JsonArray().add(1).add(2)));
    assertThat(failedAt(r, "score")).contains("must give a JSON object").contains("an array");
    assertThat(fake.predictions()).isZero();
  }

  @Test
  void a_booting_server_fails_the_run_at_the_inference_node_with_the_booting_sentence() {
    FakeInferenceServer booting = fake().mode(Mode.BOOTING);
    String serverId = createServer("booting", "passthrough", booting.url(), ADMIN);
    String flowId = createFlow(flow(calling(serverId)), ADMIN);
    for (String type : new String[] {"server", "api"}) {
      Reply r = trigger(deploy(flowId, type), new JsonObject().put("a", 1));
      String message = failedAt(r, "score");
      assertThat(message).as(type).contains("'booting' is booting").contains("retry in about")
          .doesNotContain("X-Wait-For-Ready");
      assertThat(r.json().getString("message")).contains("score").contains("booting");
    }
    assertThat(booting.predictions()).isZero();
  }

  @Test
  void an_upstream_500_fails_the_run_at_the_node_with_the_inference_error() {
    FakeInferenceServer failing = fake();
    String serverId = createServer("failing", "passthrough", failing.url(), ADMIN);
    String flowId = createFlow(flow(calling(serverId)), ADMIN);
    Deployed d = deploy(flowId, "server");
    assertThat(trigger(d, new JsonObject()).status()).isEqualTo(200);
    failing.mode(Mode.ERROR_500);
    assertThat(failedAt(trigger(d, new JsonObject()), "score")).contains("'failing' failed");
  }

  @Test
  void bad_inference_node_configs_are_400_invalid_flow_naming_the_node_and_field() {
    String serverId = createServer("valid", "passthrough", "http://127.0.0.1:9", ADMIN);
    record Case(JsonObject config, String says) {}
    Case[] cases = {
        new Case(new JsonObject(), "\"inference_server_id\" is required"),
        new Case(new JsonObject().put("inference_server_id", "not-a-uuid"), "\"inference_server_id\" is required"),
        new Case(new JsonObject().put("inference_server_id", 42), "\"inference_server_id\" is required"),
        new Case(calling(serverId).put("model", "iris"), "unknown config field \"model\""),
        new Case(calling(serverId).put("input", 7), "\"input\" must be a string"),
        new Case(calling(serverId).put("input", "{\"a\": "), "invalid JSONata expression in input"),
    };
    for (Case c : cases) {
      Reply r = http.admin("POST", "/api/v1/flows", flow(c.config()), ADMIN);
      assertProblem(r, 400, "invalid_flow");
      assertThat(r.json().getString("message")).as(c.config().encode()).startsWith("node 'score': ")
          .contains(c.says());
      assertThat(r.json().getJsonArray("details").getJsonObject(0).getString("node_id")).isEqualTo("score");
    }
  }

  @Test
  void a_flow_may_call_only_the_servers_of_its_own_profile() {
    String mine = createServer("mine", "passthrough", fake().url(), ADMIN);
    String token = otherProfileToken();
    Reply theirs = http.admin("POST", "/api/v1/flows", flow(calling(mine)), token);
    assertProblem(theirs, 400, "invalid_flow");
    assertThat(theirs.json().getString("message")).contains("node 'score'").contains(mine)
        .contains("exists in this profile");
    assertThat(theirs.json().getJsonArray("details").getJsonObject(0).getString("node_id")).isEqualTo("score");

    Reply unknown = http.admin("POST", "/api/v1/flows", flow(calling(UUID.randomUUID().toString())), ADMIN);
    assertProblem(unknown, 400, "invalid_flow");

    // A new version may not point at another profile's server either.
    String own = createServer("own", "passthrough", fake().url(), token);
    String flowId = createFlow(flow(calling(own)), token);
    assertProblem(http.admin("PUT", "/api/v1/flows/" + flowId, flow(calling(mine)), token), 400, "invalid_flow");
    assertThat(http.admin("PUT", "/api/v1/flows/" + flowId, flow(calling(own)), token).status()).isEqualTo(200);
  }

  @Test
  void at_run_time_the_node_calls_only_servers_of_the_runs_profile() throws Exception {
    FakeInferenceServer fake = fake();
    String mine = createServer("mine-at-run-time", "passthrough", fake.url(), ADMIN);
    String token = otherProfileToken();
    String own = createServer("theirs", "passthrough", fake().url(), token);
    String flowId = createFlow(flow(calling(own)), token);
    Deployed d = deploy(flowId, "server", token);
    // A stored definition naming another profile's server (written behind the control plane's back) still cannot
    // reach it: the runtime checks the server's owner against the run's profile.
    gateway.gateway().pool().preparedQuery("UPDATE flow_versions SET definition = $1 WHERE flow_id = $2")
        .execute(Tuple.of(flow(calling(mine)), UUID.fromString(flowId)))
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(failedAt(trigger(d, new JsonObject()), "score")).contains(mine).contains("does not exist");
    assertThat(fake.predictions()).isZero();
  }

  @Test
  void deleting_a_server_that_a_runnable_flow_version_calls_is_409_naming_the_flow_and_its_versions() {
    String serverId = createServer("called-by-flows", "passthrough", fake().url(), ADMIN);
    String other = createServer("the-other-one", "passthrough", fake().url(), ADMIN);
    // The node parses the id case-insensitively, so the check must too.
    JsonObject v1 = flow(calling(serverId.toUpperCase()));
    String flowId = createFlow(v1, ADMIN);

    Reply current = http.admin("DELETE", "/api/v1/inference-servers/" + serverId, null, ADMIN);
    assertProblem(current, 409, "conflict");
    assertThat(current.json().getString("message")).contains(serverId).contains(v1.getString("name"))
        .contains(flowId).contains("version 1 (current)");
    assertThat(current.json().getJsonArray("details").getJsonObject(0).getString("flow_id")).isEqualTo(flowId);

    Reply deployed = http.admin("POST", "/api/v1/deployments", new JsonObject().put("flow_id", flowId)
        .put("name", "pins-v1").put("deployment_type", "server"), ADMIN);
    assertThat(deployed.status()).as(deployed.toString()).isEqualTo(201);
    String deploymentId = deployed.data().getString("id");
    assertThat(http.admin("PUT", "/api/v1/flows/" + flowId, flow(calling(other)), ADMIN).status()).isEqualTo(200);
    Reply pinned = http.admin("DELETE", "/api/v1/inference-servers/" + serverId, null, ADMIN);
    assertProblem(pinned, 409, "conflict");
    assertThat(pinned.json().getString("message")).contains("version 1 (deployed by 'pins-v1')")
        .doesNotContain("version 2");
    assertThat(pinned.json().getJsonArray("details").getJsonObject(0).getJsonArray("versions")).containsExactly(1);

    // Once no current or deployed version calls it, the server may go; the old version stays in the history.
    assertThat(http.admin("POST", "/api/v1/deployments/" + deploymentId + "/redeploy", null, ADMIN).status())
        .isEqualTo(200);
    assertThat(http.admin("DELETE", "/api/v1/inference-servers/" + serverId, null, ADMIN).status()).isEqualTo(204);
  }

  @Test
  void a_server_deleted_behind_the_control_plane_fails_the_run_at_the_node() throws Exception {
    String serverId = createServer("short-lived", "passthrough", fake().url(), ADMIN);
    Deployed d = deploy(createFlow(flow(calling(serverId)), ADMIN), "server");
    assertThat(trigger(d, new JsonObject()).status()).isEqualTo(200);
    // The control plane refuses this delete (409); a person with psql does not ask it.
    gateway.gateway().pool().preparedQuery("DELETE FROM inference_servers WHERE id = $1")
        .execute(Tuple.of(UUID.fromString(serverId)))
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    // The delete reaches the runtime through its change notice.
    Awaitility.await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(20))
        .until(() -> trigger(d, new JsonObject()).status() == 500);
    assertThat(failedAt(trigger(d, new JsonObject()), "score")).contains(serverId)
        .contains("does not exist in the flow's profile");
  }
}
