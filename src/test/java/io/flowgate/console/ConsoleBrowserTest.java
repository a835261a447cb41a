package io.flowgate.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.flowgate.testsupport.ExternalTools;
import io.flowgate.testsupport.GatewayUnderTest;
import io.flowgate.testsupport.TestHttp.Reply;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The web console in a real browser: {@code src/test/node/console-e2e.cjs} drives Debian's Chromium headless with
 * playwright-core against a gateway on loopback. Sign in (a wrong token first), create a flow (an invalid one first:
 * the error next to the editor), edit its test data, create a deployment (an invalid form first: the API's messages
 * next to the fields), copy the key from the dialog (compared with the clipboard), trigger the deployment with it over
 * plain HTTP, see the call counted and the run listed on the deployment page, deactivate the key and see the trigger
 * refused, then a revoked token back to sign-in. Every page is checked for console errors and horizontal overflow at
 * 1280 and 390 px, light and dark, and saved under {@code target/console-screenshots/}. Skipped (with the reason)
 * without node and npm, or without Chromium when it cannot be installed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsoleBrowserTest {
  private static final Path SCRIPT = Path.of("src/test/node/console-e2e.cjs").toAbsolutePath();
  private static final Path SCREENSHOTS = Path.of("target/console-screenshots").toAbsolutePath();
  private GatewayUnderTest gateway;

  @BeforeAll
  void start() {
    gateway = GatewayUnderTest.start(getClass(), 2);
  }

  @AfterAll
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
  }

  @Test
  void a_user_signs_in_deploys_a_flow_copies_its_key_sees_the_call_and_deactivates_the_key() throws IOException {
    assumeTrue(ExternalTools.nodeAndNpm(), "node 18+ and npm are not installed");
    List<String> reasons = new ArrayList<>();
    Path chromium = ExternalTools.chromium(reasons);
    assumeTrue(chromium != null, () -> String.join("; ", reasons));
    Path playwright = ExternalTools.playwrightCore();
    Files.createDirectories(SCREENSHOTS);
    try (Stream<Path> old = Files.list(SCREENSHOTS)) {
      for (Path p : old.toList()) {
        Files.delete(p);
      }
    }
    Path work = Files.createDirectories(Path.of("target/console-e2e").toAbsolutePath());

    ExternalTools.Result run = ExternalTools.run(List.of("node", SCRIPT.toString()), work, Duration.ofMinutes(5),
        Map.of("PLAYWRIGHT_CORE", playwright.toString(), "CHROMIUM", chromium.toString(),
            "BASE_URL", gateway.baseUrl(), "ADMIN_TOKEN", GatewayUnderTest.ADMIN_TOKEN,
            "SCREENSHOTS", SCREENSHOTS.toString()));
    assertThat(run.exitCode()).as("the browser scenario:\n%s", run).isZero();
    String[] lines = run.stdout().strip().split("\n");
    JsonObject outcome = new JsonObject(lines[lines.length - 1]);
    assertThat(outcome.getString("result")).as(run.toString()).isEqualTo("passed");

    // What the browser did, seen through the API and the data plane from here.
    String deploymentId = outcome.getString("deploymentId");
    Reply deployment = gateway.http().admin("GET", "/api/v1/deployments/" + deploymentId, null,
        GatewayUnderTest.ADMIN_TOKEN);
    assertThat(deployment.status()).isEqualTo(200);
    assertThat(deployment.data().getString("name")).isEqualTo("e2e-greeting");
    assertThat(deployment.data().getString("deployment_type")).isEqualTo("server");
    assertThat(deployment.data().getInteger("timeout_seconds")).isEqualTo(30);
    Reply refused = gateway.http().trigger(deploymentId, outcome.getString("key"), "{\"input_data\": {}}");
    assertThat(refused.status()).as(refused.toString()).isEqualTo(401);
    assertThat(refused.json().getString("code")).isEqualTo("api_key_inactive");
    JsonObject usage = gateway.http().admin("GET", "/api/v1/deployments/" + deploymentId + "/usage?window=1h", null,
        GatewayUnderTest.ADMIN_TOKEN).data();
    assertThat(usage.getLong("calls")).as("the one call made while the key was active").isEqualTo(1);

    assertThat(run.stdout()).contains("\"step\":\"wrong token refused\"", "\"step\":\"invalid flow refused\"",
        "\"step\":\"invalid deployment refused\"", "\"step\":\"call counted\"", "\"step\":\"deactivated key refused\"",
        "\"step\":\"revoked session back to sign-in\"");
    List<String> shots;
    try (Stream<Path> files = Files.list(SCREENSHOTS)) {
      shots = files.filter(p -> Files.isRegularFile(p) && p.toString().endsWith(".png"))
          .map(p -> p.getFileName().toString()).sorted().toList();
    }
    for (String page : List.of("signin", "deployments", "deployment", "deployment-form", "flows", "flow", "flow-new",
        "keys", "servers")) {
      for (String variant : List.of("1280-light", "1280-dark", "390-light", "390-dark")) {
        assertThat(shots).contains(page + "-" + variant + ".png");
      }
    }
    for (String shot : shots) {
      assertThat(Files.size(SCREENSHOTS.resolve(shot))).as(shot).isGreaterThan(1000);
    }
  }
}
