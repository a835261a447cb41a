package io.flowgate.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowgate.GatewayException;
import io.flowgate.control.CodeLiterals.Style;
import io.flowgate.deployments.DeploymentType;
import io.flowgate.deployments.ExecutionMode;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The snippet and collection generators as pure functions (the API test runs what they make). */
class ExampleCodeTest {
  private static final UUID ID = UUID.fromString("af86a8a6-40f2-4b92-9f83-c9b3bafb2ccb");
  private static final JsonObject PARAM = new JsonObject().put("param1", "value1");

  private static Integration deployment(ExecutionMode mode, JsonObject testData, String key) {
    return new Integration(ID, "Chat Workflow", mode, DeploymentType.API, 1, "https://backend.example.com", key,
        testData, null, 3600, false);
  }

  @Test
  void the_sync_snippets_are_aicuflow_s_with_this_deployment_s_url_key_and_test_data() {
    JsonObject s = ExampleCode.snippets(deployment(ExecutionMode.SYNC, PARAM, "sk-EuT64********oyU_O"));
    assertThat(s.fieldNames()).containsExactlyInAnyOrder("curl", "python", "javascript");
    assertThat(s.getString("curl")).isEqualTo("""
        # Waits for the run to finish and answers with its output
        curl -X POST "https://backend.example.com/node/deployment-trigger/af86a8a6-40f2-4b92-9f83-c9b3bafb2ccb/" \\
          -H "X-API-Key: sk-EuT64********oyU_O" \\
          -H "Content-Type: application/json" \\
          -d '{
          "input_data": {
            "param1": "value1"
          }
        }'
        """);
    assertThat(s.getString("python")).startsWith("""
        import requests

        API_KEY = "sk-EuT64********oyU_O"
        API_URL = "https://backend.example.com/node/deployment-trigger/af86a8a6-40f2-4b92-9f83-c9b3bafb2ccb/"


        def trigger_deployment(input_data=None):
            \"\"\"Trigger the Chat Workflow deployment - waits for completion and returns results\"\"\"
        """).endsWith("""
        # Usage example with test data
        result = trigger_deployment({"param1": "value1"})
        print(f"Status: {result['status']}")
        print(f"Output: {result['output_data']}")
        print(f"Duration: {result.get('duration_seconds')} seconds")
        """);
    assertThat(s.getString("javascript")).startsWith("""
        const API_KEY = "sk-EuT64********oyU_O";
        const API_URL =
          "https://backend.example.com/node/deployment-trigger/af86a8a6-40f2-4b92-9f83-c9b3bafb2ccb/";

        async function triggerDeployment(inputData = {}) {
        """).endsWith("""
        // Usage example with test data
        const result = await triggerDeployment({
          param1: "value1",
        });
        console.log("Status:", result.status);
        console.log("Output:", result.output_data);
        console.log("Duration:", result.duration_seconds, "seconds");
        """);
  }

  @Test
  void async_snippets_poll_the_poll_url_and_fast_ones_retry_a_booting_server() {
    JsonObject async = ExampleCode.snippets(deployment(ExecutionMode.ASYNC, PARAM, "sk-x"));
    assertThat(async.getString("python")).contains("def wait_for_result(poll_url, timeout_seconds=3630):")
        .contains("API_BASE + poll_url").contains("params={\"wait\": 30}")
        .contains("result = wait_for_result(run[\"poll_url\"])");
    assertThat(async.getString("javascript")).contains("async function waitForResult(pollUrl, timeoutSeconds = 3630)")
        .contains("fetch(`${API_BASE}${pollUrl}?wait=30`");
    assertThat(async.getString("curl").split("\n\n")).hasSize(2);
    JsonObject fast = ExampleCode.snippets(deployment(ExecutionMode.FAST, PARAM, "sk-x"));
    assertThat(fast.getString("curl")).contains("curl -X POST --retry 5 ");
    assertThat(fast.getString("python")).contains("response.status_code == 503 and attempt < retries")
        .contains("time.sleep(int(response.headers.get(\"Retry-After\", \"5\")))");
    assertThat(fast.getString("javascript")).contains("response.status === 503 && attempt < retries");
  }

  @Test
  void without_a_key_the_snippets_hold_a_placeholder() {
    JsonObject s = ExampleCode.snippets(deployment(ExecutionMode.SYNC, PARAM, null));
    assertThat(s.getString("python")).contains("API_KEY = \"" + Integration.KEY_PLACEHOLDER + "\"");
    assertThat(s.getString("javascript")).contains("const API_KEY = \"" + Integration.KEY_PLACEHOLDER + "\";");
  }

  @Test
  void literals_follow_each_language_s_rules() {
    JsonObject value = new JsonObject().put("ok", true).put("no", false).put("none", null).put("n", 1.5)
        .put("big", 12345678901L).put("list", new JsonArray().add(1).add("two")).put("my-key", "it's \"q\"\n")
        .put("empty", new JsonObject());
    assertThat(CodeLiterals.inline(value, Style.PYTHON)).isEqualTo("{\"ok\": True, \"no\": False, \"none\": None, "
        + "\"n\": 1.5, \"big\": 12345678901, \"list\": [1, \"two\"], \"my-key\": \"it's \\\"q\\\"\\n\", "
        + "\"empty\": {}}");
    assertThat(CodeLiterals.inline(value, Style.JAVASCRIPT)).isEqualTo("{ok: true, no: false, none: null, n: 1.5, "
        + "big: 12345678901, list: [1, \"two\"], \"my-key\": \"it's \\\"q\\\"\\n\", empty: {}}");
    assertThat(new JsonObject(CodeLiterals.render(value, Style.JSON, 2, 0, false))).isEqualTo(value);
    assertThat(CodeLiterals.render(new JsonObject().put("a", new JsonObject().put("b", new JsonArray()
        .add(new JsonObject().put("c", 1)))), Style.PYTHON, 4, 0, false)).isEqualTo("""
        {
            "a": {
                "b": [
                    {
                        "c": 1,
                    },
                ],
            },
        }""");
    assertThat(CodeLiterals.string("a\u2028b", Style.JAVASCRIPT)).isEqualTo("\"a\\u2028b\"");
    assertThat(CodeLiterals.render(PARAM, Style.PYTHON, 4, 0, true)).isEqualTo("{\"param1\": \"value1\"}");
  }

  @Test
  void a_single_quote_in_the_test_data_cannot_end_the_curl_body() {
    String curl = ExampleCode.curl(deployment(ExecutionMode.SYNC, new JsonObject().put("q", "it's"), "sk-x"));
    assertThat(curl).contains("\"q\": \"it'\\''s\"");
  }

  @Test
  void the_name_cannot_end_a_docstring_or_a_comment() {
    assertThat(ExampleCode.pythonDocText("a\"\"\"b\\c\nd")).isEqualTo("a\\\"\\\"\\\"b\\\\c d");
    assertThat(ExampleCode.jsCommentText("a\nb\rc\u2028d\u2029e\u0085f")).isEqualTo("a b c d e f");
  }

  @Test
  void the_postman_collection_fits_the_deployment() {
    JsonObject sync = PostmanCollection.of(deployment(ExecutionMode.SYNC, PARAM, "sk-EuT64********oyU_O"));
    assertThat(sync.getJsonObject("info").getString("schema")).isEqualTo(PostmanCollection.SCHEMA);
    assertThat(sync.getJsonArray("variable").stream().map(v -> ((JsonObject) v).getString("key")).toList())
        .containsExactly("baseUrl", "apiKey", "flowRunId");
    assertThat(sync.getJsonArray("variable").getJsonObject(1).getString("value")).isEqualTo("sk-EuT64********oyU_O");
    assertThat(names(sync)).containsExactly(PostmanCollection.TRIGGER, PostmanCollection.POLL,
        PostmanCollection.NO_KEY);
    JsonObject trigger = sync.getJsonArray("item").getJsonObject(0);
    assertThat(trigger.getJsonObject("request").getString("url"))
        .isEqualTo("{{baseUrl}}/node/deployment-trigger/" + ID + "/");
    assertThat(new JsonObject(trigger.getJsonObject("request").getJsonObject("body").getString("raw")))
        .isEqualTo(new JsonObject().put("input_data", PARAM));
    assertThat(String.join("\n", trigger.getJsonArray("event").getJsonObject(0).getJsonObject("script")
        .getJsonArray("exec").getList())).contains("pm.test(").contains("pm.response.to.have.status(200)");
    assertThat(names(PostmanCollection.of(deployment(ExecutionMode.ASYNC, PARAM, "k"))))
        .containsExactly(PostmanCollection.TRIGGER, PostmanCollection.POLL, PostmanCollection.NO_KEY);
    assertThat(names(PostmanCollection.of(deployment(ExecutionMode.FAST, PARAM, "k"))))
        .containsExactly(PostmanCollection.TRIGGER, PostmanCollection.NO_KEY);
  }

  private static List<String> names(JsonObject collection) {
    return collection.getJsonArray("item").stream().map(i -> ((JsonObject) i).getString("name")).toList();
  }

  @Test
  void format_is_absent_or_postman() {
    assertThat(IntegrationHandlers.format(List.of())).isFalse();
    assertThat(IntegrationHandlers.format(List.of("postman"))).isTrue();
    for (List<String> bad : List.of(List.of("xml"), List.of(""), List.of("Postman"), List.of("postman", "postman"))) {
      assertThatThrownBy(() -> IntegrationHandlers.format(bad)).isInstanceOf(GatewayException.class)
          .hasMessageContaining("\"format\" must be postman");
    }
  }
}
