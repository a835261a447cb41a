package io.flowgate.trigger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.flowgate.testsupport.GatewayUnderTest;
import io.flowgate.testsupport.TestHttp.Reply;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client code users already have: aicuflow's Python ({@code requests}) and JavaScript ({@code fetch}) snippets,
 * verbatim but for the URL and key, run against a live gateway. Skipped where python3 with requests, or node, is not
 * installed (a machine with only a JDK).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AicuflowClientCompatibilityTest {
  private GatewayUnderTest gateway;
  private String url;
  private String apiKey;

  @TempDir
  Path dir;

  @BeforeAll
  void start() {
    gateway = GatewayUnderTest.start(getClass(), 1);
    JsonObject flow = new JsonObject().put("name", "compat")
        .put("nodes", new JsonArray()
            .add(new JsonObject().put("id", "input").put("type", "api_input"))
            .add(new JsonObject().put("id", "shape").put("type", "transform")
                .put("config", new JsonObject().put("expression", "{\"echo\": param1}")))
            .add(new JsonObject().put("id", "output").put("type", "output")))
        .put("edges", new JsonArray()
            .add(new JsonObject().put("from", "input").put("to", "shape"))
            .add(new JsonObject().put("from", "shape").put("to", "output")));
    Reply f = gateway.http().admin("POST", "/api/v1/flows", flow, GatewayUnderTest.ADMIN_TOKEN);
    Reply d = gateway.http().admin("POST", "/api/v1/deployments",
        new JsonObject().put("flow_id", f.data().getString("id")), GatewayUnderTest.ADMIN_TOKEN);
    assertThat(d.status()).as(d.toString()).isEqualTo(201);
    url = gateway.baseUrl() + "/node/deployment-trigger/" + d.data().getString("id") + "/";
    apiKey = d.data().getString("api_key");
  }

  @AfterAll
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
  }

  private static boolean available(String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static String run(List<String> command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }

  @Test
  void the_python_requests_snippet_works_unchanged() throws Exception {
    assumeTrue(available("python3", "-c", "import requests"), "python3 with requests is not installed");
    Path script = dir.resolve("client.py");
    Files.writeString(script, """
        import requests

        API_KEY = "%s"
        API_URL = "%s"

        def trigger_deployment(input_data=None):
            \"\"\"Trigger Chat Workflow Deployment - waits for completion and returns results\"\"\"
            response = requests.post(
                API_URL,
                headers={
                    "X-API-Key": API_KEY,
                    "Content-Type": "application/json"
                },
                json={
                    "input_data": input_data or {},
                }
            )
            if response.ok:
                result = response.json()
                return result["data"]
            else:
                raise Exception(f"API Error: {response.text}")

        # Usage example with test data
        result = trigger_deployment({'param1': 'value1'})
        print(f"Status: {result['status']}")
        print(f"Output: {result['output_data']}")
        print(f"Duration: {result.get('duration_seconds')} seconds")
        """.formatted(apiKey, url));
    String out = run(List.of("python3", script.toString()));
    assertThat(out).contains("Status: completed").contains("Output: {'echo': 'value1'}").contains("Duration: ");
  }

  @Test
  void the_javascript_fetch_snippet_works_unchanged_and_reads_error_messages() throws Exception {
    assumeTrue(available("node", "-e", "if (typeof fetch !== 'function') process.exit(1)"),
        "node with fetch is not installed");
    Path script = dir.resolve("client.mjs");
    Files.writeString(script, """
        const API_KEY = "%s";
        const API_URL =
          "%s";

        async function triggerDeployment(inputData = {}, key = API_KEY) {
          // Waits for completion and returns results
          const response = await fetch(API_URL, {
            method: "POST",
            headers: {
              "X-API-Key": key,
              "Content-Type": "application/json",
            },
            body: JSON.stringify({ input_data: inputData }),
          });
          const result = await response.json();
          if (result.status === "success") {
            return result.data;
          } else {
            throw new Error(`API Error: ${result.message}`);
          }
        }

        // Usage example with test data
        const result = await triggerDeployment({
          param1: "value1",
        });
        console.log("Status:", result.status);
        console.log("Output:", JSON.stringify(result.output_data));
        console.log("Duration:", result.duration_seconds, "seconds");
        try {
          await triggerDeployment({}, "sk-EuT64********oyU_O");
        } catch (e) {
          console.log(e.message);
        }
        """.formatted(apiKey, url));
    String out = run(List.of("node", script.toString()));
    assertThat(out).contains("Status: completed").contains("Output: {\"echo\":\"value1\"}")
        .contains("Duration:").contains("API Error: The API key is not valid");
  }
}
