package io.flowgate.trigger;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.testsupport.FakeInferenceServer;
import io.flowgate.testsupport.FakeInferenceServer.Mode;
import io.flowgate.testsupport.GatewayUnderTest;
import io.flowgate.testsupport.TestHttp;
import io.flowgate.testsupport.TestHttp.Reply;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Fast Mode end to end through a whole gateway on real Redis and PostgreSQL (DESIGN §1.4, §2): inference servers in
 * the control plane (CRUD, validation, profile isolation, delete conflict), fast deployments forwarding to a fake
 * server, the problem answers and {@code X-Wait-For-Ready}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FastModeApiTest {
  private static final String ADMIN = GatewayUnderTest.ADMIN_TOKEN;

  private GatewayUnderTest gateway;
  private TestHttp http;
  private FakeInferenceServer fake;
  private FakeInferenceServer booting;

  @BeforeAll
  void start() {
    gateway = GatewayUnderTest.start(GatewayUnderTest.Backing.fresh(getClass()), 2,
        Map.of("FLOWGATE_INFERENCE_HEALTH_INTERVAL_MS", "100"));
    http = gateway.http();
    fake = FakeInferenceServer.start(gateway.vertx());
    booting = FakeInferenceServer.start(gateway.vertx()).mode(Mode.BOOTING);
  }

  @AfterAll
  void stop() {
    // The fakes run on the gateway's Vert.x: stop them first.
    if (fake != null) {
      fake.close();
      booting.close();
    }
    if (gateway != null) {
      gateway.close();
    }
  }

  private JsonObject server(String name, String protocol, String url) {
    JsonObject body = new JsonObject().put("name", name).put("protocol", protocol)
        .put("replicas", new JsonArray().add(url));
    if (protocol.equals("open_inference_v2")) {
      body.put("model", "iris");
    }
    return body;
  }

  private String createServer(JsonObject body, String token) {
    Reply r = http.admin("POST", "/api/v1/inference-servers", body, token);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.data().getString("id");
  }

  private JsonObject fastDeployment(String serverId) {
    Reply r = http.admin("POST", "/api/v1/deployments", new JsonObject().put("execution_mode", "fast")
        .put("name", "fast-" + UUID.randomUUID().toString().substring(0, 6)).put("inference_server_id", serverId),
        ADMIN);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.data();
  }

  private static void assertProblem(Reply r, int status, String code) {
    assertThat(r.status()).as(r.toString()).isEqualTo(status);
    assertThat(r.header("Content-Type")).startsWith("application/problem+json");
    assertThat(r.json().getString("code")).isEqualTo(code);
    assertThat(r.json().getString("instance")).isEqualTo(r.header("X-Request-Id"));
  }

  @Test
  void a_fast_deployment_answers_with_the_prediction_in_the_aicuflow_envelope() {
    String serverId = createServer(server("iris-passthrough", "passthrough", fake.url()).put("predict_path",
        "/predict"), ADMIN);
    JsonObject d = fastDeployment(serverId);
    Reply r = http.trigger(d.getString("id"), d.getString("api_key"),
        "{\"input_data\": {\"features\": [5.1, 3.5, 1.4, 0.2]}}");
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    JsonObject body = r.json();
    assertThat(body.getString("status")).isEqualTo("success");
    JsonObject data = body.getJsonObject("data");
    assertThat(data.getString("status")).isEqualTo("completed");
    assertThat(data.getBoolean("fast_mode")).isTrue();
    assertThat(data.getDouble("duration_seconds")).isPositive().isLessThan(5.0);
    assertThat(data.getJsonObject("output_data").getString("label")).isEqualTo("setosa");
    assertThat(data.getJsonObject("output_data").getJsonObject("received"))
        .isEqualTo(new JsonObject().put("features", new JsonArray().add(5.1).add(3.5).add(1.4).add(0.2)));
    assertThat(r.header("X-Request-Id")).isNotBlank();
  }

  @Test
  void an_open_inference_deployment_maps_features_to_a_tensor_and_back() {
    String serverId = createServer(server("iris-oip", "open_inference_v2", fake.url()), ADMIN);
    JsonObject d = fastDeployment(serverId);
    Reply r = http.trigger(d.getString("id"), d.getString("api_key"),
        "{\"input_data\": {\"features\": [5.1, 3.5, 1.4, 0.2]}}");
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    JsonObject out = r.data().getJsonObject("output_data");
    assertThat(out.getJsonArray("label")).containsExactly("setosa");
    assertThat(out.getJsonArray("probabilities").getJsonArray(0)).hasSize(3);
    assertThat(out.getString("model_name")).isEqualTo("iris");
  }

  @Test
  void a_booting_server_is_503_inference_booting_with_retry_after_and_x_wait_for_ready_is_bounded() {
    String serverId = createServer(server("booting", "passthrough", booting.url()), ADMIN);
    JsonObject d = fastDeployment(serverId);
    Reply r = http.trigger(d.getString("id"), d.getString("api_key"), "{\"input_data\": {}}");
    assertProblem(r, 503, "inference_booting");
    assertThat(Integer.parseInt(r.header("Retry-After"))).isPositive();
    assertThat(r.json().getString("message")).contains("retry in about");
    assertThat(booting.predictions()).isZero();

    for (String bad : new String[] {"61", "-1", "soon", "1.5"}) {
      assertProblem(http.trigger(d.getString("id"), d.getString("api_key"), "{}", "X-Wait-For-Ready", bad), 400,
          "invalid_request");
    }
    long started = System.nanoTime();
    Reply waited = http.trigger(d.getString("id"), d.getString("api_key"), "{}", "X-Wait-For-Ready", "1");
    assertProblem(waited, 503, "inference_booting");
    assertThat((System.nanoTime() - started) / 1_000_000).isGreaterThanOrEqualTo(900);
  }

  @Test
  void a_held_request_is_answered_once_the_server_is_ready() {
    FakeInferenceServer late = FakeInferenceServer.start(gateway.vertx()).mode(Mode.BOOTING);
    try {
      String serverId = createServer(server("late", "passthrough", late.url()), ADMIN);
      JsonObject d = fastDeployment(serverId);
      gateway.vertx().setTimer(700, t -> late.mode(Mode.READY));
      Reply r = http.trigger(d.getString("id"), d.getString("api_key"), "{\"input_data\": {\"a\": 1}}",
          "X-Wait-For-Ready", "20");
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      assertThat(r.data().getJsonObject("output_data").getString("label")).isEqualTo("setosa");
    } finally {
      late.close();
    }
  }

  @Test
  void upstream_failures_map_to_502_and_a_dead_server_to_503_inference_unavailable() {
    FakeInferenceServer failing = FakeInferenceServer.start(gateway.vertx());
    String serverId = createServer(server("failing", "passthrough", failing.url()), ADMIN);
    JsonObject d = fastDeployment(serverId);
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> http.trigger(d.getString("id"),
        d.getString("api_key"), "{}").status() == 200);
    failing.mode(Mode.ERROR_500);
    assertProblem(http.trigger(d.getString("id"), d.getString("api_key"), "{}"), 502, "inference_error");
    failing.close();
    Reply down = http.trigger(d.getString("id"), d.getString("api_key"), "{}");
    assertProblem(down, 503, "inference_unavailable");
    assertThat(down.header("Retry-After")).isNotNull();
  }

  @Test
  void inference_servers_have_crud_with_live_state() {
    String id = createServer(server("crud", "passthrough", fake.url()), ADMIN);
    Reply read = http.admin("GET", "/api/v1/inference-servers/" + id, null, ADMIN);
    assertThat(read.status()).isEqualTo(200);
    JsonObject s = read.data();
    assertThat(s.getString("name")).isEqualTo("crud");
    assertThat(s.getString("protocol")).isEqualTo("passthrough");
    assertThat(s.getString("ready_path")).isEqualTo("/health");
    assertThat(s.getString("state")).isEqualTo("ready");
    JsonObject replica = s.getJsonArray("replicas").getJsonObject(0);
    assertThat(replica.getString("url")).isEqualTo(fake.url());
    assertThat(replica.getString("state")).isEqualTo("ready");

    JsonArray items = http.admin("GET", "/api/v1/inference-servers", null, ADMIN).data().getJsonArray("items");
    assertThat(items.stream().map(o -> ((JsonObject) o).getString("id"))).contains(id);

    Reply stopped = http.admin("POST", "/api/v1/inference-servers/" + id + "/stop", null, ADMIN);
    assertThat(stopped.data().getString("state")).isEqualTo("stopped");
    Reply started = http.admin("POST", "/api/v1/inference-servers/" + id + "/start", null, ADMIN);
    assertThat(started.data().getString("state")).isEqualTo("ready");

    assertThat(http.admin("DELETE", "/api/v1/inference-servers/" + id, null, ADMIN).status()).isEqualTo(204);
    assertProblem(http.admin("GET", "/api/v1/inference-servers/" + id, null, ADMIN), 404, "not_found");
  }

  @Test
  void a_launched_server_reads_as_stopped_until_used() {
    Reply r = http.admin("POST", "/api/v1/inference-servers", new JsonObject().put("name", "launched")
        .put("protocol", "passthrough").put("launch", new JsonObject()
            .put("command", new JsonArray().add("java").add("-version")).put("replicas", 2)
            .put("idle_stop_seconds", 60)), ADMIN);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    assertThat(r.data().getString("state")).isEqualTo("stopped");
    assertThat(r.data().getJsonObject("launch").getInteger("replicas")).isEqualTo(2);
    assertThat(r.data().getJsonArray("replicas")).hasSize(2);
  }

  @Test
  void bad_inference_servers_are_400_naming_the_field() {
    record Case(JsonObject body, String field) {}
    JsonArray one = new JsonArray().add("http://127.0.0.1:9001");
    JsonArray seventeen = new JsonArray();
    for (int i = 0; i < 17; i++) {
      seventeen.add("http://127.0.0.1:" + (9000 + i));
    }
    Case[] cases = {
        new Case(new JsonObject().put("name", "x").put("protocol", "grpc").put("replicas", one), "protocol"),
        new Case(new JsonObject().put("name", "x").put("protocol", "passthrough")
            .put("replicas", new JsonArray().add("/relative")), "replicas"),
        new Case(new JsonObject().put("name", "x").put("protocol", "passthrough")
            .put("replicas", new JsonArray().add("ftp://127.0.0.1/")), "replicas"),
        new Case(new JsonObject().put("name", "x").put("protocol", "passthrough")
            .put("replicas", new JsonArray().add("not a url")), "replicas"),
        new Case(new JsonObject().put("name", "x").put("protocol", "passthrough").put("replicas", new JsonArray()),
            "replicas"),
        new Case(new JsonObject().put("name", "x").put("protocol", "passthrough").put("replicas", seventeen),
            "replicas"),
        new Case(new JsonObject().put("name", "x").put("protocol", "passthrough"), "replicas"),
        new Case(new JsonObject().put("name", "x").put("protocol", "passthrough").put("replicas", one)
            .put("launch", new JsonObject().put("command", new JsonArray().add("java"))), "replicas"),
        new Case(new JsonObject().put("name", "x").put("protocol", "passthrough")
            .put("launch", new JsonObject().put("command", new JsonArray())), "launch.command"),
        new Case(new JsonObject().put("name", "x").put("protocol", "passthrough")
            .put("launch", new JsonObject().put("command", "java -jar x.jar")), "launch.command"),
        new Case(new JsonObject().put("name", "x").put("protocol", "passthrough")
            .put("launch", new JsonObject().put("command", new JsonArray().add("java")).put("replicas", 17)),
            "launch.replicas"),
        new Case(new JsonObject().put("name", "x").put("protocol", "open_inference_v2").put("replicas", one),
            "model"),
        new Case(new JsonObject().put("protocol", "passthrough").put("replicas", one), "name"),
        new Case(new JsonObject().put("name", "x").put("protocol", "passthrough").put("replicas", one)
            .put("timeout_ms", 0), "timeout_ms"),
    };
    for (Case c : cases) {
      Reply r = http.admin("POST", "/api/v1/inference-servers", c.body(), ADMIN);
      assertProblem(r, 400, "invalid_request");
      assertThat(r.json().getString("message")).as(c.body().encode()).contains(c.field());
    }
  }

  @Test
  void other_profiles_see_404_and_cannot_deploy_to_a_server_they_do_not_own() {
    String mine = createServer(server("mine", "passthrough", fake.url()), ADMIN);
    Reply profile = http.admin("POST", "/api/v1/profiles", new JsonObject().put("name", "other-" + UUID.randomUUID()
        .toString().substring(0, 8)), ADMIN);
    assertThat(profile.status()).as(profile.toString()).isEqualTo(201);
    String token = profile.data().getString("token");
    assertProblem(http.admin("GET", "/api/v1/inference-servers/" + mine, null, token), 404, "not_found");
    assertProblem(http.admin("DELETE", "/api/v1/inference-servers/" + mine, null, token), 404, "not_found");
    assertProblem(http.admin("POST", "/api/v1/inference-servers/" + mine + "/stop", null, token), 404, "not_found");
    assertThat(http.admin("GET", "/api/v1/inference-servers", null, token).data().getJsonArray("items")).isEmpty();
    Reply deploy = http.admin("POST", "/api/v1/deployments", new JsonObject().put("execution_mode", "fast")
        .put("inference_server_id", mine), token);
    assertProblem(deploy, 400, "invalid_request");
    assertThat(deploy.json().getString("message")).contains("inference_server_id");
    Reply unknown = http.admin("POST", "/api/v1/deployments", new JsonObject().put("execution_mode", "fast")
        .put("inference_server_id", UUID.randomUUID().toString()), ADMIN);
    assertProblem(unknown, 400, "invalid_request");
  }

  @Test
  void deleting_a_server_in_use_is_409_naming_the_deployments() {
    String id = createServer(server("in-use", "passthrough", fake.url()), ADMIN);
    JsonObject d = fastDeployment(id);
    Reply r = http.admin("DELETE", "/api/v1/inference-servers/" + id, null, ADMIN);
    assertProblem(r, 409, "conflict");
    assertThat(r.json().getString("message")).contains(d.getString("name")).contains(d.getString("id"));
    assertThat(http.admin("DELETE", "/api/v1/deployments/" + d.getString("id"), null, ADMIN).status())
        .isEqualTo(204);
    assertThat(http.admin("DELETE", "/api/v1/inference-servers/" + id, null, ADMIN).status()).isEqualTo(204);
  }

  @Test
  void a_patch_changes_the_settings_and_the_next_request_uses_them() {
    FakeInferenceServer second = FakeInferenceServer.start(gateway.vertx());
    try {
      String id = createServer(server("patched", "passthrough", fake.url()), ADMIN);
      JsonObject d = fastDeployment(id);
      assertThat(http.trigger(d.getString("id"), d.getString("api_key"), "{}").status()).isEqualTo(200);

      Reply patched = http.admin("PATCH", "/api/v1/inference-servers/" + id, new JsonObject().put("name", "renamed")
          .put("replicas", new JsonArray().add(second.url())).put("timeout_ms", 1500).put("max_in_flight", 8), ADMIN);
      assertThat(patched.status()).as(patched.toString()).isEqualTo(200);
      JsonObject s = patched.data();
      assertThat(s.getString("name")).isEqualTo("renamed");
      assertThat(s.getInteger("timeout_ms")).isEqualTo(1500);
      assertThat(s.getInteger("max_in_flight")).isEqualTo(8);
      assertThat(s.getString("protocol")).isEqualTo("passthrough");
      assertThat(s.getString("state")).isEqualTo("ready");
      assertThat(s.getJsonArray("replicas")).hasSize(1);
      assertThat(s.getJsonArray("replicas").getJsonObject(0).getString("url")).isEqualTo(second.url());

      Reply r = http.trigger(d.getString("id"), d.getString("api_key"), "{\"input_data\": {\"n\": 1}}");
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      assertThat(second.predictions()).isEqualTo(1);

      // Another protocol: the readiness path and the request mapping follow it.
      Reply oip = http.admin("PATCH", "/api/v1/inference-servers/" + id, new JsonObject()
          .put("protocol", "open_inference_v2").put("model", "iris"), ADMIN);
      assertThat(oip.status()).as(oip.toString()).isEqualTo(200);
      assertThat(oip.data().getString("ready_path")).isEqualTo("/v2/health/ready");
      assertThat(oip.data().getValue("predict_path")).isNull();
      Reply mapped = http.trigger(d.getString("id"), d.getString("api_key"),
          "{\"input_data\": {\"features\": [5.1, 3.5, 1.4, 0.2]}}");
      assertThat(mapped.status()).as(mapped.toString()).isEqualTo(200);
      assertThat(mapped.data().getJsonObject("output_data").getString("model_name")).isEqualTo("iris");

      Reply read = http.admin("GET", "/api/v1/inference-servers/" + id, null, ADMIN);
      assertThat(read.data().getString("name")).isEqualTo("renamed");
      assertThat(read.data().getString("protocol")).isEqualTo("open_inference_v2");
    } finally {
      second.close();
    }
  }

  @Test
  void a_patch_changes_launch_settings_and_switches_between_launch_and_replicas() {
    Reply created = http.admin("POST", "/api/v1/inference-servers", new JsonObject().put("name", "switching")
        .put("protocol", "passthrough").put("launch", new JsonObject()
            .put("command", new JsonArray().add("java").add("-version")).put("idle_stop_seconds", 60)), ADMIN);
    assertThat(created.status()).as(created.toString()).isEqualTo(201);
    String id = created.data().getString("id");

    Reply more = http.admin("PATCH", "/api/v1/inference-servers/" + id, new JsonObject()
        .put("launch", new JsonObject().put("replicas", 3).putNull("idle_stop_seconds")), ADMIN);
    assertThat(more.status()).as(more.toString()).isEqualTo(200);
    JsonObject launch = more.data().getJsonObject("launch");
    assertThat(launch.getJsonArray("command")).containsExactly("java", "-version");
    assertThat(launch.getInteger("replicas")).isEqualTo(3);
    assertThat(launch.getInteger("idle_stop_seconds")).isEqualTo(600);
    assertThat(more.data().getJsonArray("replicas")).hasSize(3);

    Reply fixed = http.admin("PATCH", "/api/v1/inference-servers/" + id, new JsonObject()
        .put("replicas", new JsonArray().add(fake.url())), ADMIN);
    assertThat(fixed.status()).as(fixed.toString()).isEqualTo(200);
    assertThat(fixed.data().containsKey("launch")).isFalse();
    assertThat(fixed.data().getString("state")).isEqualTo("ready");
    assertThat(fixed.data().getJsonArray("replicas").getJsonObject(0).getString("url")).isEqualTo(fake.url());
  }

  @Test
  void bad_patches_are_400_naming_the_field_and_change_nothing() {
    String id = createServer(server("unpatchable", "passthrough", fake.url()), ADMIN);
    JsonObject before = http.admin("GET", "/api/v1/inference-servers/" + id, null, ADMIN).data();
    record Case(JsonObject body, String field) {}
    Case[] cases = {
        new Case(new JsonObject().put("replica", new JsonArray().add(fake.url())), "replica"),
        new Case(new JsonObject().put("replicas", new JsonArray().add("ftp://127.0.0.1/")), "replicas"),
        new Case(new JsonObject().put("replicas", new JsonArray().add("not a url")), "replicas"),
        new Case(new JsonObject().put("replicas", new JsonArray()), "replicas"),
        new Case(new JsonObject().put("replicas", fake.url()), "replicas"),
        new Case(new JsonObject().putNull("replicas"), "replicas"),
        new Case(new JsonObject().put("replicas", new JsonArray().add(fake.url())).put("launch", new JsonObject()
            .put("command", new JsonArray().add("java"))), "replicas"),
        new Case(new JsonObject().put("launch", new JsonObject().put("replicas", 2)), "launch.command"),
        new Case(new JsonObject().put("protocol", "grpc"), "protocol"),
        new Case(new JsonObject().put("protocol", "open_inference_v2"), "model"),
        new Case(new JsonObject().put("timeout_ms", "fast"), "timeout_ms"),
        new Case(new JsonObject().put("max_in_flight", 0), "max_in_flight"),
        new Case(new JsonObject().put("ready_path", "health"), "ready_path"),
        new Case(new JsonObject().putNull("name"), "name"),
        new Case(new JsonObject().put("name", 7), "name"),
        new Case(new JsonObject().put("state", "stopped"), "/stop"),
        new Case(new JsonObject().put("id", UUID.randomUUID().toString()), "read-only"),
        new Case(new JsonObject(), "at least one setting"),
    };
    for (Case c : cases) {
      Reply r = http.admin("PATCH", "/api/v1/inference-servers/" + id, c.body(), ADMIN);
      assertProblem(r, 400, "invalid_request");
      assertThat(r.json().getString("message")).as(c.body().encode()).contains(c.field());
    }
    assertProblem(http.send("PATCH", "/api/v1/inference-servers/" + id, "{\"name\": ", "Authorization",
        "Bearer " + ADMIN, "Content-Type", "application/json"), 400, "invalid_json");
    assertProblem(http.send("PATCH", "/api/v1/inference-servers/" + id, "name=x", "Authorization",
        "Bearer " + ADMIN, "Content-Type", "application/x-www-form-urlencoded"), 415, "unsupported_media_type");

    JsonObject after = http.admin("GET", "/api/v1/inference-servers/" + id, null, ADMIN).data();
    for (String setting : List.of("name", "protocol", "model", "ready_path", "timeout_ms", "max_in_flight")) {
      assertThat(after.getValue(setting)).as(setting).isEqualTo(before.getValue(setting));
    }
    assertThat(after.getJsonArray("replicas").getJsonObject(0).getString("url")).isEqualTo(fake.url());
  }

  @Test
  void patch_start_stop_and_delete_of_an_unknown_server_are_404() {
    String unknown = UUID.randomUUID().toString();
    JsonObject body = new JsonObject().put("timeout_ms", 1000);
    for (String path : List.of(unknown, "not-a-uuid")) {
      assertProblem(http.admin("PATCH", "/api/v1/inference-servers/" + path, body, ADMIN), 404, "not_found");
      assertProblem(http.admin("POST", "/api/v1/inference-servers/" + path + "/start", null, ADMIN), 404,
          "not_found");
      assertProblem(http.admin("POST", "/api/v1/inference-servers/" + path + "/stop", null, ADMIN), 404,
          "not_found");
      assertProblem(http.admin("DELETE", "/api/v1/inference-servers/" + path, null, ADMIN), 404, "not_found");
    }
    Reply r = http.admin("PATCH", "/api/v1/inference-servers/" + unknown, body, ADMIN);
    assertThat(r.json().getString("message")).contains(unknown).contains("GET /api/v1/inference-servers");
  }

  @Test
  void a_stopped_server_answers_fast_triggers_503_saying_how_to_start_it() {
    String id = createServer(server("stoppable", "passthrough", fake.url()), ADMIN);
    JsonObject d = fastDeployment(id);
    assertThat(http.trigger(d.getString("id"), d.getString("api_key"), "{}").status()).isEqualTo(200);

    Reply stopped = http.admin("POST", "/api/v1/inference-servers/" + id + "/stop", null, ADMIN);
    assertThat(stopped.data().getString("desired_state")).isEqualTo("stopped");
    assertThat(stopped.data().getString("state")).isEqualTo("stopped");
    int before = fake.predictions();
    Reply refused = http.trigger(d.getString("id"), d.getString("api_key"), "{}", "X-Wait-For-Ready", "5");
    assertProblem(refused, 503, "inference_unavailable");
    assertThat(refused.json().getString("message")).contains("is stopped")
        .contains("POST /api/v1/inference-servers/" + id + "/start");
    assertThat(refused.header("Retry-After")).isNotNull();
    assertThat(fake.predictions()).isEqualTo(before);
    // Stopped is stored: a read, a PATCH and a repeated stop keep it.
    assertThat(http.admin("GET", "/api/v1/inference-servers/" + id, null, ADMIN).data().getString("desired_state"))
        .isEqualTo("stopped");
    assertThat(http.admin("PATCH", "/api/v1/inference-servers/" + id, new JsonObject().put("timeout_ms", 900),
        ADMIN).data().getString("state")).isEqualTo("stopped");
    assertThat(http.admin("POST", "/api/v1/inference-servers/" + id + "/stop", null, ADMIN).status()).isEqualTo(200);

    Reply started = http.admin("POST", "/api/v1/inference-servers/" + id + "/start", null, ADMIN);
    assertThat(started.data().getString("desired_state")).isEqualTo("started");
    assertThat(started.data().getString("state")).isEqualTo("ready");
    assertThat(http.trigger(d.getString("id"), d.getString("api_key"), "{}").status()).isEqualTo(200);
  }
}
