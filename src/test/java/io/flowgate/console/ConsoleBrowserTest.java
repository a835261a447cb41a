package io.flowgate.console;

import static io.flowgate.testsupport.ControlPlane.createDeployment;
import static io.flowgate.testsupport.ControlPlane.createFlow;
import static io.flowgate.testsupport.ControlPlane.versionedFlow;
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
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The web console in real browsers. In Chromium, the whole scenario: {@code src/test/node/console-e2e.cjs} drives
 * Debian's Chromium headless with playwright-core against a gateway on loopback. Sign in (a wrong token first), create a flow (an invalid one first:
 * the error next to the editor), edit its test data, create a deployment (an invalid form first: the API's messages
 * next to the fields), copy the key from the dialog (compared with the clipboard), trigger the deployment with it over
 * plain HTTP, see the call counted and the run listed on the deployment page, deactivate the key and see the trigger
 * refused, then a revoked token back to sign-in. Every page is checked for console errors and horizontal overflow at
 * 1280 and 390 px, light and dark, and saved under {@code target/console-screenshots/}.
 *
 * <p>In Debian's Firefox ESR, a smoke test: {@code src/test/node/console-firefox-smoke.cjs} drives it headless over
 * WebDriver BiDi (Firefox's own remote protocol; Playwright's Firefox needs a patched build that cannot be downloaded
 * here). A wrong token is refused with the API's message, the token is kept in sessionStorage, every list page and
 * the new-flow page (with its drawn DAG) render without console errors, the create-deployment dialog closes on Escape,
 * and a revoked token goes back to sign-in; screenshots {@code firefox-*.png}.
 *
 * <p>Each is skipped (with the reason) without node and npm, or without its browser when it cannot be installed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsoleBrowserTest {
  private static final Path SCRIPT = Path.of("src/test/node/console-e2e.cjs").toAbsolutePath();
  private static final Path FIREFOX_SCRIPT = Path.of("src/test/node/console-firefox-smoke.cjs").toAbsolutePath();
  private static final Path SCREENSHOTS = Path.of("target/console-screenshots").toAbsolutePath();
  private GatewayUnderTest gateway;

  @BeforeAll
  void start() throws IOException {
    // The scenario's webhook points at loopback (nothing listens: deliveries fail and are retried in the background).
    gateway = GatewayUnderTest.start(GatewayUnderTest.Backing.fresh(getClass()), 2,
        Map.of("FLOWGATE_WEBHOOKS_ALLOW_PRIVATE_NETWORKS", "true"));
    deleteTree(SCREENSHOTS);
    Files.createDirectories(SCREENSHOTS);
  }

  private static void deleteTree(Path root) throws IOException {
    if (Files.exists(root)) {
      try (Stream<Path> old = Files.walk(root)) {
        for (Path p : old.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
  }

  @AfterAll
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
  }

  @Test
  void in_chromium_a_user_signs_in_deploys_a_flow_copies_its_key_sees_the_call_and_deactivates_the_key()
      throws IOException {
    Path chromium = browser(ExternalTools::chromium);
    Path playwright = ExternalTools.playwrightCore();
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
    assertThat(deployment.data().getJsonObject("notification").getJsonArray("events"))
        .containsExactly("run.completed", "run.failed");
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

  @Test
  void in_firefox_the_console_signs_in_renders_every_page_and_handles_the_keyboard() throws IOException {
    Path firefox = browser(ExternalTools::firefox);
    createDeployment(gateway.http(), new JsonObject().put("name", "smoke")
        .put("flow_id", createFlow(gateway.http(), versionedFlow("smoke", 1, 0))));
    Path work = Files.createDirectories(Path.of("target/console-firefox").toAbsolutePath());
    Path profile = work.resolve("profile");
    deleteTree(profile);
    Files.createDirectories(profile);
    // Node 20 has WebSocket behind a flag; later versions have it on.
    List<String> node = ExternalTools.available("node", "-e", "if (typeof WebSocket !== 'function') process.exit(1)")
        ? List.of("node", FIREFOX_SCRIPT.toString())
        : List.of("node", "--experimental-websocket", FIREFOX_SCRIPT.toString());

    ExternalTools.Result run = ExternalTools.run(node, work, Duration.ofMinutes(3),
        Map.of("FIREFOX", firefox.toString(), "PROFILE", profile.toString(), "BASE_URL", gateway.baseUrl(),
            "ADMIN_TOKEN", GatewayUnderTest.ADMIN_TOKEN, "SCREENSHOTS", SCREENSHOTS.toString(),
            "MOZ_HEADLESS", "1"));
    assertThat(run.exitCode()).as("the Firefox smoke test:\n%s", run).isZero();
    assertThat(run.stdout()).contains("\"step\":\"wrong token refused\"", "\"step\":\"pages rendered\"",
        "\"step\":\"dialog closes on Escape\"", "\"step\":\"revoked session back to sign-in\"",
        "{\"result\":\"passed\"}");
    for (String page : List.of("deployments", "flows", "keys", "servers", "flow-new", "deployment-form")) {
      assertThat(SCREENSHOTS.resolve("firefox-" + page + ".png")).isNotEmptyFile();
    }
  }

  /** The browser {@code find} gives, after checking node and npm; skips the test, saying why, when there is none. */
  private static Path browser(java.util.function.Function<List<String>, Path> find) {
    assumeTrue(ExternalTools.nodeAndNpm(), "node 18+ and npm are not installed");
    List<String> reasons = new ArrayList<>();
    Path browser = find.apply(reasons);
    assumeTrue(browser != null, () -> String.join("; ", reasons));
    return browser;
  }
}
