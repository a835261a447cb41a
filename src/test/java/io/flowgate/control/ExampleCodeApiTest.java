package io.flowgate.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.flowgate.testsupport.ExternalTools;
import io.flowgate.testsupport.ExternalTools.Result;
import io.flowgate.testsupport.FakeInferenceServer;
import io.flowgate.testsupport.GatewayUnderTest;
import io.flowgate.testsupport.TestHttp;
import io.flowgate.testsupport.TestHttp.Reply;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code GET /api/v1/deployments/{id}/example-code} end to end: the snippets as an integrator gets them, run with the
 * real key pasted in (python3 with requests, node's fetch, curl) against a live gateway for a sync, an async and a
 * Fast Mode deployment; the Postman collection run by Newman; and every bad request. Each client tool is skipped
 * where it is not installed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ExampleCodeApiTest {
  private static final String ADMIN = GatewayUnderTest.ADMIN_TOKEN;
  private static final Duration RUN_TIMEOUT = Duration.ofSeconds(60);
  /** Everything a literal in four languages must survive: quotes, backslashes, line breaks, shell syntax, unicode. */
  static final JsonObject TEST_DATA = new JsonObject()
      .put("name", "Ada O'Brien \"the first\"")
      .put("score", 120.5)
      .put("count", 3)
      .put("vip", true)
      .put("manager", null)
      .put("tags", new JsonArray().add("a").add("b\\c").add("'; rm -rf / #"))
      .put("address", new JsonObject().put("city", "Zürich ✓").put("lines", new JsonArray()
          .add(new JsonObject().put("n", 1)).add(new JsonArray())))
      .put("note", "line one\nline two\t$HOME `whoami` ${x} \"\"\" */");
  static final JsonObject SCHEMA = new JsonObject()
      .put("type", "object")
      .put("required", new JsonArray().add("name").add("score"))
      .put("properties", new JsonObject()
          .put("name", new JsonObject().put("type", "string"))
          .put("score", new JsonObject().put("type", "number"))
          .put("address", new JsonObject().put("$ref", "#/$defs/address")))
      .put("$defs", new JsonObject().put("address", new JsonObject().put("type", "object")
          .put("required", new JsonArray().add("city"))
          .put("properties", new JsonObject().put("city", new JsonObject().put("type", "string")))));
  /** A name that tries to end a Python docstring and a JavaScript comment. */
  private static final String NASTY_NAME = "echo \"\"\" \\ */ \u2028 x";

  private GatewayUnderTest gateway;
  private TestHttp http;
  private FakeInferenceServer inference;
  private final Map<String, JsonObject> deployments = new java.util.HashMap<>();

  @TempDir
  Path dir;

  @BeforeAll
  void start() {
    gateway = GatewayUnderTest.start(GatewayUnderTest.Backing.fresh(getClass()), 1,
        Map.of("FLOWGATE_INFERENCE_HEALTH_INTERVAL_MS", "100"));
    http = gateway.http();
    inference = FakeInferenceServer.start(gateway.vertx());
    String flowId = created(http.admin("POST", "/api/v1/flows", echoFlow("toolkit-echo"), ADMIN)).getString("id");
    String serverId = created(http.admin("POST", "/api/v1/inference-servers", new JsonObject().put("name", "fake")
        .put("protocol", "passthrough").put("replicas", new JsonArray().add(inference.url())), ADMIN))
        .getString("id");
    deployments.put("sync", created(http.admin("POST", "/api/v1/deployments", new JsonObject()
        .put("flow_id", flowId).put("name", NASTY_NAME), ADMIN)));
    deployments.put("async", created(http.admin("POST", "/api/v1/deployments", new JsonObject()
        .put("flow_id", flowId).put("name", "echo-async").put("execution_mode", "async")
        .put("deployment_type", "server"), ADMIN)));
    deployments.put("fast", created(http.admin("POST", "/api/v1/deployments", new JsonObject()
        .put("flow_id", flowId).put("name", "echo-fast").put("execution_mode", "fast")
        .put("inference_server_id", serverId), ADMIN)));
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

  /** api_input (test data, schema) → output: the run's output_data is its input_data, unchanged. */
  static JsonObject echoFlow(String name) {
    return new JsonObject().put("name", name)
        .put("nodes", new JsonArray()
            .add(new JsonObject().put("id", "input").put("type", "api_input")
                .put("config", new JsonObject().put("test_data", TEST_DATA).put("schema", SCHEMA)))
            .add(new JsonObject().put("id", "output").put("type", "output")))
        .put("edges", new JsonArray().add(new JsonObject().put("from", "input").put("to", "output")));
  }

  private static JsonObject created(Reply reply) {
    assertThat(reply.status()).as(reply.toString()).isEqualTo(201);
    return reply.data();
  }

  private Reply exampleCode(String deploymentId, String query, String token, String... headers) {
    List<String> all = new ArrayList<>(List.of(headers));
    if (token != null) {
      all.add("Authorization");
      all.add("Bearer " + token);
    }
    return http.send("GET", "/api/v1/deployments/" + deploymentId + "/example-code" + query, null,
        all.toArray(String[]::new));
  }

  private JsonObject snippets(String mode) {
    Reply reply = exampleCode(deployments.get(mode).getString("id"), "", ADMIN);
    assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
    assertThat(reply.json().getString("status")).isEqualTo("success");
    return reply.data();
  }

  /** The output_data each mode answers for the test data. */
  private static JsonObject expectedOutput(String mode) {
    return mode.equals("fast") ? new JsonObject().put("label", "setosa").put("received", TEST_DATA) : TEST_DATA;
  }

  /** The snippet as a user would run it: the masked key replaced by the real one. */
  private String withRealKey(String mode, String snippet) {
    JsonObject d = deployments.get(mode);
    assertThat(snippet).contains(d.getString("api_key_masked")).doesNotContain(d.getString("api_key"));
    return snippet.replace(d.getString("api_key_masked"), d.getString("api_key"));
  }

  private Result runScript(String fileName, String source, String... command) throws Exception {
    Path script = dir.resolve(fileName);
    Files.writeString(script, source, StandardCharsets.UTF_8);
    List<String> cmd = new ArrayList<>(List.of(command));
    cmd.add(script.toString());
    Result result = ExternalTools.run(cmd, dir, RUN_TIMEOUT);
    assertThat(result.exitCode()).as("%s\n%s", source, result).isZero();
    return result;
  }

  private static JsonObject jsonLine(Result result) {
    for (String line : result.stdout().split("\n")) {
      if (line.startsWith("JSON:")) {
        return new JsonObject(line.substring("JSON:".length()));
      }
    }
    throw new AssertionError("no JSON: line in\n" + result);
  }

  @Test
  void answers_the_three_snippets_filled_with_the_url_the_masked_key_and_the_test_data() {
    JsonObject d = deployments.get("sync");
    JsonObject data = snippets("sync");
    String url = gateway.baseUrl() + "/node/deployment-trigger/" + d.getString("id") + "/";
    assertThat(data.getString("deployment_id")).isEqualTo(d.getString("id"));
    assertThat(data.getString("execution_mode")).isEqualTo("sync");
    assertThat(data.getString("deployment_type")).isEqualTo("api");
    assertThat(data.getString("url")).isEqualTo(url);
    assertThat(data.getString("api_key_masked")).isEqualTo(d.getString("api_key_masked"));
    assertThat(data.getJsonObject("input_data")).isEqualTo(TEST_DATA);
    for (String language : List.of("curl", "python", "javascript")) {
      assertThat(data.getString(language)).as(language).contains(url).contains(d.getString("api_key_masked"))
          .doesNotContain(d.getString("api_key"));
    }
    assertThat(data.getString("python"))
        .contains("import requests")
        .contains("def trigger_deployment(input_data=None):")
        .contains("        return result[\"data\"]")
        .contains("print(f\"Status: {result['status']}\")")
        .contains("print(f\"Output: {result['output_data']}\")")
        .contains("print(f\"Duration: {result.get('duration_seconds')} seconds\")");
    assertThat(data.getString("javascript"))
        .contains("async function triggerDeployment(inputData = {}) {")
        .contains("    return result.data;")
        .contains("console.log(\"Status:\", result.status);")
        .contains("console.log(\"Output:\", result.output_data);")
        .contains("console.log(\"Duration:\", result.duration_seconds, \"seconds\");");
    assertThat(data.getString("curl")).startsWith("# ").contains("curl -X POST \"" + url + "\"")
        .contains("-H \"X-API-Key: " + d.getString("api_key_masked") + "\"")
        .contains("-H \"Content-Type: application/json\"");
  }

  @ParameterizedTest
  @ValueSource(strings = {"sync", "async", "fast"})
  void the_python_snippet_runs_with_the_real_key_pasted_in(String mode) throws Exception {
    assumeTrue(ExternalTools.available("python3", "-c", "import requests"), "python3 with requests is not installed");
    String python = withRealKey(mode, snippets(mode).getString("python"));
    Result result = runScript("client_" + mode + ".py",
        python + "\nimport json\nprint(\"JSON:\" + json.dumps(result[\"output_data\"]))\n", "python3");
    assertThat(result.stdout()).contains("Status: completed").contains("Output: {").containsPattern(
        "Duration: [0-9.e-]+ seconds");
    if (mode.equals("async")) {
      assertThat(result.stdout()).containsPattern("Started: [0-9a-f-]+ \\((queued|running|completed)\\)");
    }
    assertThat(jsonLine(result)).isEqualTo(expectedOutput(mode));
  }

  @ParameterizedTest
  @ValueSource(strings = {"sync", "async", "fast"})
  void the_javascript_snippet_runs_with_the_real_key_pasted_in(String mode) throws Exception {
    assumeTrue(ExternalTools.available("node", "-e", "if (typeof fetch !== 'function') process.exit(1)"),
        "node with fetch is not installed");
    String javascript = withRealKey(mode, snippets(mode).getString("javascript"));
    Result result = runScript("client_" + mode + ".mjs",
        javascript + "\nconsole.log(\"JSON:\" + JSON.stringify(result.output_data));\n", "node");
    assertThat(result.stdout()).contains("Status: completed").contains("Output: {").containsPattern(
        "Duration: [0-9.e-]+ seconds");
    assertThat(jsonLine(result)).isEqualTo(expectedOutput(mode));
  }

  @ParameterizedTest
  @ValueSource(strings = {"sync", "fast"})
  void the_curl_snippet_runs_with_the_real_key_pasted_in(String mode) throws Exception {
    assumeTrue(ExternalTools.available("curl", "--version"), "curl is not installed");
    String curl = withRealKey(mode, snippets(mode).getString("curl"));
    JsonObject answer = new JsonObject(runScript("trigger_" + mode + ".sh", curl, "sh").stdout());
    assertThat(answer.getString("status")).isEqualTo("success");
    assertThat(answer.getJsonObject("data").getString("status")).isEqualTo("completed");
    assertThat(answer.getJsonObject("data").getJsonObject("output_data")).isEqualTo(expectedOutput(mode));
  }

  @Test
  void the_async_curl_snippet_starts_a_run_and_its_second_command_polls_it_to_the_end() throws Exception {
    assumeTrue(ExternalTools.available("curl", "--version"), "curl is not installed");
    String curl = withRealKey("async", snippets("async").getString("curl"));
    String[] steps = curl.split("\n\n");
    assertThat(steps).hasSize(2);
    assertThat(steps[1]).contains("<flow_run_id>").contains("?wait=30");
    JsonObject accepted = new JsonObject(runScript("start.sh", steps[0], "sh").stdout()).getJsonObject("data");
    assertThat(accepted.getString("poll_url")).isEqualTo("/node/flow-runs/" + accepted.getString("flow_run_id")
        + "/");
    JsonObject run = new JsonObject(runScript("poll.sh", steps[1].replace("<flow_run_id>",
        accepted.getString("flow_run_id")), "sh").stdout()).getJsonObject("data");
    assertThat(run.getString("status")).isEqualTo("completed");
    assertThat(run.getJsonObject("output_data")).isEqualTo(TEST_DATA);
  }

  @ParameterizedTest
  @ValueSource(strings = {"sync", "async", "fast"})
  void newman_runs_the_postman_collection_against_the_gateway(String mode) throws Exception {
    assumeTrue(ExternalTools.nodeAndNpm(), "node 18+ and npm are not installed");
    List<String> newman = ExternalTools.newman();
    JsonObject d = deployments.get(mode);
    Reply reply = exampleCode(d.getString("id"), "?format=postman", ADMIN);
    assertThat(reply.status()).as(reply.toString()).isEqualTo(200);
    assertThat(reply.header("Content-Type")).startsWith("application/json");
    JsonObject collection = reply.json();
    assertThat(collection.getJsonObject("info").getString("schema")).isEqualTo(
        "https://schema.getpostman.com/json/collection/v2.1.0/collection.json");
    assertThat(collection.encode()).doesNotContain(d.getString("api_key")).contains(d.getString("api_key_masked"));
    Path file = dir.resolve(mode + ".postman_collection.json");
    Files.writeString(file, collection.encodePrettily(), StandardCharsets.UTF_8);
    Path report = dir.resolve(mode + "-report.json");
    List<String> command = new ArrayList<>(newman);
    command.addAll(List.of("run", file.toString(), "--env-var", "apiKey=" + d.getString("api_key"),
        "--reporters", "cli,json", "--reporter-json-export", report.toString(), "--timeout-request", "60000",
        "--color", "off"));
    Result result = ExternalTools.run(command, dir, Duration.ofSeconds(120));
    assertThat(result.exitCode()).as(result.toString()).isZero();
    JsonObject stats = new JsonObject(Files.readString(report)).getJsonObject("run").getJsonObject("stats");
    assertThat(stats.getJsonObject("assertions").getInteger("failed")).as(result.stdout()).isZero();
    assertThat(stats.getJsonObject("assertions").getInteger("total")).as(result.stdout())
        .isGreaterThanOrEqualTo(mode.equals("fast") ? 4 : 7);
    assertThat(stats.getJsonObject("requests").getInteger("failed")).isZero();
  }

  @Test
  void an_unknown_format_is_400_naming_the_allowed_value() {
    String id = deployments.get("sync").getString("id");
    for (String query : List.of("?format=xml", "?format=", "?format=POSTMAN", "?format=postman&format=postman",
        "?format=openapi")) {
      Reply reply = exampleCode(id, query, ADMIN);
      assertProblem(reply, 400, "invalid_request");
      assertThat(reply.json().getString("message")).as(query).contains("\"format\" must be postman")
          .contains("snippets");
    }
  }

  @Test
  void an_unknown_or_malformed_deployment_id_is_404() {
    for (String path : List.of("/example-code", "/openapi.json")) {
      String missing = UUID.randomUUID().toString();
      Reply reply = http.admin("GET", "/api/v1/deployments/" + missing + path, null, ADMIN);
      assertProblem(reply, 404, "not_found");
      assertThat(reply.json().getString("message")).contains(missing).contains("GET /api/v1/deployments");
      assertProblem(http.admin("GET", "/api/v1/deployments/not-a-uuid" + path, null, ADMIN), 404, "not_found");
    }
  }

  @Test
  void another_profile_s_deployment_is_404_exactly_like_a_missing_one() {
    String other = created(http.admin("POST", "/api/v1/profiles", new JsonObject().put("name", "toolkit-other"),
        ADMIN)).getString("token");
    String id = deployments.get("sync").getString("id");
    String missing = UUID.randomUUID().toString();
    for (String path : List.of("/example-code", "/example-code?format=postman", "/openapi.json")) {
      Reply foreign = http.admin("GET", "/api/v1/deployments/" + id + path, null, other);
      assertProblem(foreign, 404, "not_found");
      Reply absent = http.admin("GET", "/api/v1/deployments/" + missing + path, null, other);
      assertThat(foreign.json().getString("message").replace(id, "ID"))
          .isEqualTo(absent.json().getString("message").replace(missing, "ID"));
      assertThat(foreign.body()).doesNotContain(deployments.get("sync").getString("api_key_masked"));
    }
  }

  @Test
  void needs_a_valid_bearer_token() {
    String id = deployments.get("sync").getString("id");
    for (String path : List.of("/example-code", "/example-code?format=postman", "/openapi.json")) {
      Reply none = http.send("GET", "/api/v1/deployments/" + id + path, null);
      assertProblem(none, 401, "unauthorized");
      assertThat(none.header("WWW-Authenticate")).isEqualTo("Bearer");
      assertProblem(http.admin("GET", "/api/v1/deployments/" + id + path, null, "mt-not-a-real-token"), 401,
          "unauthorized");
      assertProblem(http.admin("GET", "/api/v1/deployments/" + id + path, null, ADMIN + "x"), 401, "unauthorized");
    }
  }

  @Test
  void the_url_follows_the_proxy_headers_and_ignores_ones_that_are_not_a_host() {
    String id = deployments.get("sync").getString("id");
    Reply proxied = exampleCode(id, "", ADMIN, "X-Forwarded-Proto", "https", "X-Forwarded-Host",
        "api.example.com");
    assertThat(proxied.data().getString("url")).isEqualTo("https://api.example.com/node/deployment-trigger/" + id
        + "/");
    assertThat(proxied.data().getString("python")).contains("API_URL = \"https://api.example.com/node/");
    Reply forwarded = exampleCode(id, "?format=postman", ADMIN, "Forwarded", "for=10.0.0.1;proto=https;"
        + "host=\"gw.example.org:8443\"");
    assertThat(forwarded.json().getJsonArray("variable").getJsonObject(0).getString("value"))
        .isEqualTo("https://gw.example.org:8443");
    Reply hostile = exampleCode(id, "", ADMIN, "X-Forwarded-Host", "evil.example.com\"; import os; #",
        "X-Forwarded-Proto", "javascript");
    assertThat(hostile.data().getString("url")).isEqualTo(gateway.baseUrl() + "/node/deployment-trigger/" + id
        + "/");
  }

  @Test
  void shows_the_newest_usable_key_then_a_profile_wide_one_then_a_placeholder() {
    String token = created(http.admin("POST", "/api/v1/profiles", new JsonObject().put("name", "toolkit-keys"),
        ADMIN)).getString("token");
    String flowId = created(http.admin("POST", "/api/v1/flows", echoFlow("keys-flow"), token)).getString("id");
    JsonObject d = created(http.admin("POST", "/api/v1/deployments", new JsonObject().put("flow_id", flowId),
        token));
    String id = d.getString("id");
    JsonObject second = created(http.admin("POST", "/api/v1/deployments/" + id + "/api-keys", new JsonObject(),
        token));
    assertThat(exampleCode(id, "", token).data().getString("api_key_masked"))
        .isEqualTo(second.getString("api_key_masked"));

    assertThat(http.admin("POST", "/api/v1/api-keys/" + second.getString("id") + "/deactivate", null, token)
        .status()).isEqualTo(200);
    assertThat(exampleCode(id, "", token).data().getString("api_key_masked"))
        .isEqualTo(d.getString("api_key_masked"));

    assertThat(http.admin("POST", "/api/v1/api-keys/" + d.getString("api_key_id") + "/deactivate", null, token)
        .status()).isEqualTo(200);
    JsonObject none = exampleCode(id, "", token).data();
    assertThat(none.getValue("api_key_masked")).isNull();
    assertThat(none.containsKey("api_key_masked")).isTrue();
    assertThat(none.getString("python")).contains("API_KEY = \"" + Integration.KEY_PLACEHOLDER + "\"");
    assertThat(none.getString("curl")).contains("X-API-Key: " + Integration.KEY_PLACEHOLDER);

    JsonObject profileWide = created(http.admin("POST", "/api/v1/api-keys", new JsonObject(), token));
    assertThat(exampleCode(id, "", token).data().getString("api_key_masked"))
        .isEqualTo(profileWide.getString("api_key_masked"));
  }

  private static void assertProblem(Reply reply, int status, String code) {
    assertThat(reply.status()).as(reply.toString()).isEqualTo(status);
    assertThat(reply.header("Content-Type")).isEqualTo("application/problem+json");
    JsonObject problem = reply.json();
    assertThat(problem.getString("code")).as(reply.toString()).isEqualTo(code);
    assertThat(problem.getInteger("status")).isEqualTo(status);
    assertThat(problem.getString("message")).isEqualTo(problem.getString("detail")).isNotBlank();
  }
}
