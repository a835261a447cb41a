package io.flowgate.trigger;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.deployments.ApiKeys;
import io.flowgate.testsupport.GatewayUnderTest;
import io.flowgate.testsupport.TestHttp;
import io.flowgate.testsupport.TestHttp.Reply;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The data plane end to end (DESIGN §1.1–1.3, §1.6) against a whole gateway on real Redis and PostgreSQL: sync runs
 * of both deployment types, the envelope, polling, and every bad input of the trigger. Runs with one event loop and
 * with several (the two subclasses).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class TriggerApiTestBase {
  private static final String ADMIN = GatewayUnderTest.ADMIN_TOKEN;

  GatewayUnderTest gateway;
  TestHttp http;
  Deployed greetServer;
  Deployed greetApi;
  Deployed failing;
  Deployed slowServer;
  Deployed slowApi;
  Deployed smallBody;
  Deployed branches;

  abstract int eventLoops();

  record Deployed(String id, String apiKey, String apiKeyId) {}

  @BeforeAll
  void startGateway() {
    gateway = GatewayUnderTest.start(getClass(), eventLoops());
    http = gateway.http();
    String greet = createFlow(flow("greet",
        node("input", "api_input", new JsonObject()
            .put("test_data", new JsonObject().put("name", "Ada"))
            .put("schema", new JsonObject().put("type", "object")
                .put("required", new JsonArray().add("name"))
                .put("properties", new JsonObject().put("name", new JsonObject().put("type", "string"))))),
        node("shape", "transform", new JsonObject()
            .put("expression", "{\"greeting\": \"Hello, \" & name & \"!\", \"n\": $length(name)}")),
        node("output", "output", new JsonObject())));
    String fails = createFlow(flow("fails",
        node("input", "api_input", new JsonObject()),
        node("explode", "transform", new JsonObject().put("expression", "$error(\"the model is not loaded\")")),
        node("output", "output", new JsonObject())));
    String slow = createFlow(flow("slow",
        node("input", "api_input", new JsonObject()),
        node("wait", "delay", new JsonObject().put("ms", 5_000)),
        node("output", "output", new JsonObject())));
    JsonObject branching = new JsonObject().put("name", "branches")
        .put("nodes", new JsonArray()
            .add(node("input", "api_input", new JsonObject()))
            .add(node("check", "condition", new JsonObject().put("expression", "score > 0.5")))
            .add(node("yes", "transform", new JsonObject().put("expression", "{\"decision\": \"approve\"}")))
            .add(node("no", "transform", new JsonObject().put("expression", "{\"decision\": \"reject\"}")))
            .add(node("output", "output", new JsonObject().put("expression", "$nodes.yes ? $nodes.yes : $nodes.no"))))
        .put("edges", new JsonArray()
            .add(edge("input", "check"))
            .add(edge("check", "yes").put("when", true))
            .add(edge("check", "no").put("when", false))
            .add(edge("yes", "output"))
            .add(edge("no", "output")));
    String branchFlow = createFlow(branching);
    greetServer = deploy(greet, new JsonObject().put("deployment_type", "server"));
    greetApi = deploy(greet, new JsonObject().put("deployment_type", "api"));
    failing = deploy(fails, new JsonObject().put("deployment_type", "server"));
    slowServer = deploy(slow, new JsonObject().put("deployment_type", "server").put("timeout_seconds", 1));
    slowApi = deploy(slow, new JsonObject().put("deployment_type", "api").put("timeout_seconds", 1));
    smallBody = deploy(greet, new JsonObject().put("deployment_type", "server").put("max_body_bytes", 64));
    branches = deploy(branchFlow, new JsonObject().put("deployment_type", "server"));
  }

  @AfterAll
  void stopGateway() {
    if (gateway != null) {
      gateway.close();
    }
  }

  static JsonObject node(String id, String type, JsonObject config) {
    return new JsonObject().put("id", id).put("type", type).put("config", config);
  }

  static JsonObject edge(String from, String to) {
    return new JsonObject().put("from", from).put("to", to);
  }

  /** A linear flow through the given nodes. */
  static JsonObject flow(String name, JsonObject... nodes) {
    JsonArray edges = new JsonArray();
    for (int i = 0; i + 1 < nodes.length; i++) {
      edges.add(edge(nodes[i].getString("id"), nodes[i + 1].getString("id")));
    }
    JsonArray list = new JsonArray();
    for (JsonObject n : nodes) {
      list.add(n);
    }
    return new JsonObject().put("name", name).put("nodes", list).put("edges", edges);
  }

  String createFlow(JsonObject flow) {
    Reply r = http.admin("POST", "/api/v1/flows", flow, ADMIN);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.data().getString("id");
  }

  Deployed deploy(String flowId, JsonObject settings) {
    Reply r = http.admin("POST", "/api/v1/deployments", settings.copy().put("flow_id", flowId), ADMIN);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return new Deployed(r.data().getString("id"), r.data().getString("api_key"), r.data().getString("api_key_id"));
  }

  static void assertProblem(Reply r, int status, String code) {
    assertThat(r.status()).as(r.toString()).isEqualTo(status);
    assertThat(r.header("Content-Type")).startsWith("application/problem+json");
    JsonObject p = r.json();
    assertThat(p.getString("code")).isEqualTo(code);
    assertThat(p.getInteger("status")).isEqualTo(status);
    assertThat(p.getString("type")).isEqualTo("urn:flowgate:error:" + code);
    assertThat(p.getString("message")).isNotBlank().isEqualTo(p.getString("detail"));
    assertThat(p.getString("instance")).isEqualTo(r.header("X-Request-Id"));
    assertThat(r.body()).doesNotContain("Exception").doesNotContain("\tat ");
  }

  @Test
  void sync_server_run_answers_200_with_the_aicuflow_envelope() {
    Reply r = http.trigger(greetServer.id(), greetServer.apiKey(), "{\"input_data\": {\"name\": \"Ada\"}}");
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    JsonObject body = r.json();
    assertThat(body.getString("status")).isEqualTo("success");
    JsonObject data = body.getJsonObject("data");
    assertThat(data.getString("status")).isEqualTo("completed");
    assertThat(data.getString("deployment_id")).isEqualTo(greetServer.id());
    assertThat(data.getJsonObject("output_data"))
        .isEqualTo(new JsonObject().put("greeting", "Hello, Ada!").put("n", 3));
    JsonObject nodes = data.getJsonObject("node_outputs");
    assertThat(nodes.fieldNames()).containsExactlyInAnyOrder("input", "shape", "output");
    assertThat(nodes.getJsonObject("shape").getString("status")).isEqualTo("completed");
    assertThat(nodes.getJsonObject("shape").getValue("duration_ms")).isInstanceOf(Number.class);
    assertThat(data.getDouble("duration_seconds")).isGreaterThanOrEqualTo(0.0);
    assertThat(data.getString("flow_run_id")).isNotBlank();
    assertThat(data.getString("created_at")).isNotBlank();
    assertThat(data.getString("finished_at")).isNotBlank();
  }

  @Test
  void sync_api_run_goes_through_the_queue_and_answers_200() {
    Reply r = http.trigger(greetApi.id(), greetApi.apiKey(), "{\"input_data\": {\"name\": \"Grace\"}}");
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    assertThat(r.data().getJsonObject("output_data").getString("greeting")).isEqualTo("Hello, Grace!");
    assertThat(r.data().getString("status")).isEqualTo("completed");
  }

  @Test
  void many_concurrent_api_runs_all_complete_with_their_own_results() throws Exception {
    int n = 40;
    java.util.List<java.util.concurrent.CompletableFuture<Reply>> replies = new java.util.ArrayList<>();
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
    try {
      for (int i = 0; i < n; i++) {
        String name = "user" + i;
        replies.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> http.trigger(greetApi.id(),
            greetApi.apiKey(), "{\"input_data\": {\"name\": \"" + name + "\"}}"), pool));
      }
      for (int i = 0; i < n; i++) {
        Reply r = replies.get(i).get(60, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        assertThat(r.data().getJsonObject("output_data").getString("greeting")).isEqualTo("Hello, user" + i + "!");
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void a_finished_run_can_be_polled_with_the_same_key() {
    for (Deployed d : new Deployed[] {greetServer, greetApi}) {
      Reply r = http.trigger(d.id(), d.apiKey(), "{\"input_data\": {\"name\": \"Linus\"}}");
      String runId = r.data().getString("flow_run_id");
      Reply poll = http.send("GET", "/node/flow-runs/" + runId + "/", null, "X-API-Key", d.apiKey());
      assertThat(poll.status()).as(poll.toString()).isEqualTo(200);
      assertThat(poll.data().getString("flow_run_id")).isEqualTo(runId);
      assertThat(poll.data().getString("status")).isEqualTo("completed");
      assertThat(poll.data().getJsonObject("output_data").getString("greeting")).isEqualTo("Hello, Linus!");
      Reply noSlash = http.send("GET", "/node/flow-runs/" + runId, null, "X-API-Key", d.apiKey());
      assertThat(noSlash.status()).isEqualTo(200);
    }
  }

  @Test
  void a_run_is_not_visible_to_a_key_scoped_to_another_deployment() {
    Reply r = http.trigger(greetServer.id(), greetServer.apiKey(), "{\"input_data\": {\"name\": \"Ada\"}}");
    String runId = r.data().getString("flow_run_id");
    assertProblem(http.send("GET", "/node/flow-runs/" + runId + "/", null, "X-API-Key", greetApi.apiKey()), 404,
        "flow_run_not_found");
    assertProblem(http.send("GET", "/node/flow-runs/" + UUID.randomUUID() + "/", null, "X-API-Key",
        greetServer.apiKey()), 404, "flow_run_not_found");
    assertProblem(http.send("GET", "/node/flow-runs/not-a-uuid/", null, "X-API-Key", greetServer.apiKey()), 404,
        "flow_run_not_found");
    assertProblem(http.send("GET", "/node/flow-runs/" + runId + "/", null), 401, "missing_api_key");
  }

  @Test
  void the_trailing_slash_is_optional_and_an_empty_body_means_empty_input() {
    Reply noSlash = http.send("POST", "/node/deployment-trigger/" + branches.id(), "",
        "X-API-Key", branches.apiKey());
    assertThat(noSlash.status()).as(noSlash.toString()).isEqualTo(200);
    Reply emptyObject = http.trigger(branches.id(), branches.apiKey(), "{}");
    assertThat(emptyObject.status()).as(emptyObject.toString()).isEqualTo(200);
  }

  @Test
  void condition_branches_take_one_path_and_skip_the_other() {
    Reply yes = http.trigger(branches.id(), branches.apiKey(), "{\"input_data\": {\"score\": 0.9}}");
    assertThat(yes.status()).as(yes.toString()).isEqualTo(200);
    assertThat(yes.data().getJsonObject("output_data").getString("decision")).isEqualTo("approve");
    assertThat(yes.data().getJsonObject("node_outputs").getJsonObject("no").getString("status"))
        .isEqualTo("skipped");
    Reply no = http.trigger(branches.id(), branches.apiKey(), "{\"input_data\": {\"score\": 0.1}}");
    assertThat(no.data().getJsonObject("output_data").getString("decision")).isEqualTo("reject");
    assertThat(no.data().getJsonObject("node_outputs").getJsonObject("yes").getString("status"))
        .isEqualTo("skipped");
  }

  @Test
  void a_failing_node_answers_500_flow_failed_with_the_run_and_the_node() {
    Reply r = http.trigger(failing.id(), failing.apiKey(), "{\"input_data\": {}}");
    assertProblem(r, 500, "flow_failed");
    JsonObject data = r.json().getJsonObject("data");
    assertThat(data.getString("status")).isEqualTo("failed");
    assertThat(data.getJsonObject("error").getString("node_id")).isEqualTo("explode");
    assertThat(data.getJsonObject("error").getString("message")).contains("the model is not loaded");
    assertThat(r.json().getString("message")).contains("explode").contains("the model is not loaded");
    assertThat(data.getJsonObject("node_outputs").getJsonObject("explode").getString("status")).isEqualTo("failed");
    Reply poll = http.send("GET", "/node/flow-runs/" + data.getString("flow_run_id") + "/", null,
        "X-API-Key", failing.apiKey());
    assertThat(poll.data().getString("status")).isEqualTo("failed");
  }

  @Test
  void a_run_past_its_timeout_answers_504_and_ends_timed_out_for_both_types() {
    for (Deployed d : new Deployed[] {slowServer, slowApi}) {
      long start = System.nanoTime();
      Reply r = http.trigger(d.id(), d.apiKey(), "{\"input_data\": {}}");
      assertProblem(r, 504, "run_timeout");
      // The delay is 5 s; the timeout 1 s: the answer comes at the timeout, not after the delay.
      assertThat(System.nanoTime() - start).isLessThan(4_500_000_000L);
      String runId = r.json().getJsonObject("data").getString("flow_run_id");
      Reply poll = http.send("GET", "/node/flow-runs/" + runId + "/", null, "X-API-Key", d.apiKey());
      assertThat(poll.data().getString("status")).as(poll.toString()).isEqualTo("timed_out");
    }
  }

  @Test
  void request_ids_are_echoed_or_generated() {
    Reply echoed = http.trigger(greetServer.id(), greetServer.apiKey(), "{\"input_data\": {\"name\": \"A\"}}",
        "X-Request-Id", "abc-123");
    assertThat(echoed.header("X-Request-Id")).isEqualTo("abc-123");
    Reply generated = http.trigger(greetServer.id(), greetServer.apiKey(), "{\"input_data\": {\"name\": \"A\"}}");
    assertThat(generated.header("X-Request-Id")).hasSize(36);
  }

  @Test
  void missing_and_empty_keys_are_401_missing_api_key() {
    assertProblem(http.send("POST", "/node/deployment-trigger/" + greetServer.id() + "/", "{}",
        "Content-Type", "application/json"), 401, "missing_api_key");
    assertProblem(http.trigger(greetServer.id(), "", "{}"), 401, "missing_api_key");
  }

  @Test
  void malformed_bad_checksum_and_unknown_keys_are_401_invalid_api_key() {
    String good = greetServer.apiKey();
    String badChecksum = good.substring(0, good.length() - 1) + (good.endsWith("A") ? "B" : "A");
    String wrongPrefix = "pk-" + good.substring(3);
    for (String key : new String[] {"sk-short", "not a key", badChecksum, wrongPrefix, ApiKeys.generate(),
        good.toUpperCase()}) {
      assertProblem(http.trigger(greetServer.id(), key, "{}"), 401, "invalid_api_key");
    }
  }

  @Test
  void a_deactivated_key_is_401_api_key_inactive_and_works_again_once_activated() {
    Deployed d = deploy(createFlow(flow("tmp", node("input", "api_input", new JsonObject()),
        node("output", "output", new JsonObject()))), new JsonObject().put("deployment_type", "server"));
    assertThat(http.trigger(d.id(), d.apiKey(), "{}").status()).isEqualTo(200);
    assertThat(http.admin("POST", "/api/v1/api-keys/" + d.apiKeyId() + "/deactivate", null, ADMIN).status())
        .isEqualTo(200);
    assertProblem(http.trigger(d.id(), d.apiKey(), "{}"), 401, "api_key_inactive");
    assertThat(http.admin("POST", "/api/v1/api-keys/" + d.apiKeyId() + "/activate", null, ADMIN).status())
        .isEqualTo(200);
    assertThat(http.trigger(d.id(), d.apiKey(), "{}").status()).isEqualTo(200);
    assertThat(http.admin("DELETE", "/api/v1/api-keys/" + d.apiKeyId(), null, ADMIN).status()).isEqualTo(204);
    assertProblem(http.trigger(d.id(), d.apiKey(), "{}"), 401, "invalid_api_key");
  }

  @Test
  void a_key_of_another_deployment_or_profile_gets_404_as_for_an_unknown_deployment() {
    assertProblem(http.trigger(greetApi.id(), greetServer.apiKey(), "{}"), 404, "deployment_not_found");
    Reply profile = http.admin("POST", "/api/v1/profiles",
        new JsonObject().put("name", "other-" + UUID.randomUUID()), ADMIN);
    assertThat(profile.status()).as(profile.toString()).isEqualTo(201);
    String otherToken = profile.data().getString("token");
    Reply otherKey = http.admin("POST", "/api/v1/api-keys", new JsonObject().put("name", "x"), otherToken);
    assertThat(otherKey.status()).as(otherKey.toString()).isEqualTo(201);
    assertProblem(http.trigger(greetServer.id(), otherKey.data().getString("api_key"), "{}"), 404,
        "deployment_not_found");
  }

  @Test
  void unknown_and_non_uuid_deployment_ids_are_404() {
    assertProblem(http.trigger(UUID.randomUUID().toString(), greetServer.apiKey(), "{}"), 404,
        "deployment_not_found");
    assertProblem(http.trigger("not-a-uuid", greetServer.apiKey(), "{}"), 404, "deployment_not_found");
  }

  @Test
  void a_body_that_is_not_json_is_400_invalid_json() {
    assertProblem(http.trigger(greetServer.id(), greetServer.apiKey(), "{\"input_data\": "), 400, "invalid_json");
    assertProblem(http.trigger(greetServer.id(), greetServer.apiKey(), "[1, 2]"), 400, "invalid_json");
    assertProblem(http.trigger(greetServer.id(), greetServer.apiKey(), "{\"a\": 1, \"a\": 2}"), 400,
        "invalid_json");
  }

  @Test
  void deeply_nested_json_is_refused_with_400_invalid_json() {
    String deep = "{\"input_data\": " + "[".repeat(10_000) + "]".repeat(10_000) + "}";
    Reply r = http.trigger(greetServer.id(), greetServer.apiKey(), deep);
    assertProblem(r, 400, "invalid_json");
    assertThat(r.json().getString("message")).contains("nested");
  }

  @Test
  void input_data_that_is_not_an_object_is_400_invalid_input() {
    for (String body : new String[] {"{\"input_data\": [1]}", "{\"input_data\": \"x\"}", "{\"input_data\": 3}"}) {
      assertProblem(http.trigger(greetServer.id(), greetServer.apiKey(), body), 400, "invalid_input");
    }
  }

  @Test
  void input_failing_the_api_input_schema_is_422_with_the_fields() {
    Reply r = http.trigger(greetServer.id(), greetServer.apiKey(), "{\"input_data\": {\"name\": 42}}");
    assertProblem(r, 422, "input_validation_failed");
    assertThat(r.json().getJsonArray("details")).isNotEmpty();
    assertThat(r.json().getJsonArray("details").encode()).contains("name");
    Reply missing = http.trigger(greetServer.id(), greetServer.apiKey(), "{\"input_data\": {}}");
    assertProblem(missing, 422, "input_validation_failed");
  }

  @Test
  void a_body_over_the_deployment_limit_is_413() {
    String big = "{\"input_data\": {\"name\": \"" + "x".repeat(200) + "\"}}";
    assertProblem(http.trigger(smallBody.id(), smallBody.apiKey(), big), 413, "payload_too_large");
    String overDefault = "{\"input_data\": {\"name\": \"" + "x".repeat(1_100_000) + "\"}}";
    assertProblem(http.trigger(greetServer.id(), greetServer.apiKey(), overDefault), 413, "payload_too_large");
  }

  @Test
  void a_declared_content_length_over_the_limit_is_refused_before_the_body_arrives() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", gateway.port())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(("POST /node/deployment-trigger/" + smallBody.id() + "/ HTTP/1.1\r\nHost: x\r\n"
          + "X-API-Key: " + smallBody.apiKey() + "\r\nContent-Type: application/json\r\n"
          + "Content-Length: 1000000000000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String head = new String(socket.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
      assertThat(head).isEqualTo("HTTP/1.1 413");
    }
  }

  @Test
  void a_body_that_is_not_json_by_content_type_is_415() {
    Reply r = http.send("POST", "/node/deployment-trigger/" + greetServer.id() + "/", "name=Ada",
        "X-API-Key", greetServer.apiKey(), "Content-Type", "application/x-www-form-urlencoded");
    assertProblem(r, 415, "unsupported_media_type");
    Reply charset = http.send("POST", "/node/deployment-trigger/" + greetServer.id() + "/",
        "{\"input_data\": {\"name\": \"Ada\"}}", "X-API-Key", greetServer.apiKey(),
        "Content-Type", "application/json; charset=utf-8");
    assertThat(charset.status()).isEqualTo(200);
  }

  @Test
  void oversized_headers_get_a_problem_not_a_stack_trace() {
    Reply r = http.send("POST", "/node/deployment-trigger/" + greetServer.id() + "/", "{}",
        "X-API-Key", greetServer.apiKey(), "X-Big", "y".repeat(20_000));
    assertThat(r.status()).isEqualTo(431);
    assertThat(r.json().getString("code")).isEqualTo("headers_too_large");
  }

  @Test
  void wrong_method_and_unknown_paths_are_problems() {
    assertProblem(http.send("GET", "/node/deployment-trigger/" + greetServer.id() + "/", null), 405,
        "method_not_allowed");
    assertProblem(http.send("GET", "/nowhere", null), 404, "not_found");
  }

  @Test
  void health_and_metrics_answer() {
    assertThat(http.send("GET", "/health/live", null).status()).isEqualTo(200);
    assertThat(http.send("GET", "/health/ready", null).status()).isEqualTo(200);
    http.trigger(greetServer.id(), greetServer.apiKey(), "{\"input_data\": {\"name\": \"A\"}}");
    Reply metrics = http.send("GET", "/metrics", null);
    assertThat(metrics.status()).isEqualTo(200);
    assertThat(metrics.body()).contains("flowgate_trigger_duration_seconds_count{mode=\"sync\",outcome=\"ok\"");
    assertThat(metrics.body()).contains("vertx_http_server_requests_total");
    assertThat(metrics.body()).contains("route=\"/node/deployment-trigger/:deployment_id\"");
    assertThat(metrics.body()).doesNotContain(greetServer.id());
  }
}
