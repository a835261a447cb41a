package io.flowgate.console;

import static io.flowgate.testsupport.ControlPlane.createDeployment;
import static io.flowgate.testsupport.ControlPlane.createFlow;
import static io.flowgate.testsupport.ControlPlane.versionedFlow;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.flowgate.testsupport.ExternalTools;
import io.flowgate.testsupport.GatewayUnderTest;
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
 * The web console in Debian's Firefox ESR, a smoke test: {@code src/test/node/console-firefox-smoke.cjs} drives it
 * headless over WebDriver BiDi (Firefox's own remote protocol; Playwright's Firefox needs a patched build that cannot
 * be downloaded here). A wrong token is refused with the API's message, the token is kept in sessionStorage, every
 * list page and the new-flow page (with its drawn DAG) render without console errors, the create-deployment dialog
 * closes on Escape, and a revoked token goes back to sign-in. Screenshots: {@code target/console-screenshots/firefox-*}.
 * Skipped (with the reason) without node and npm, or without Firefox when it cannot be installed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsoleFirefoxTest {
  private static final Path SCRIPT = Path.of("src/test/node/console-firefox-smoke.cjs").toAbsolutePath();
  private static final Path SCREENSHOTS = Path.of("target/console-screenshots").toAbsolutePath();
  private GatewayUnderTest gateway;

  @BeforeAll
  void start() {
    gateway = GatewayUnderTest.start(getClass(), 1);
    String flow = createFlow(gateway.http(), versionedFlow("smoke", 1, 0));
    createDeployment(gateway.http(), new JsonObject().put("flow_id", flow).put("name", "smoke"));
  }

  @AfterAll
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
  }

  @Test
  void the_console_signs_in_renders_every_page_and_handles_the_keyboard_in_firefox() throws IOException {
    assumeTrue(ExternalTools.nodeAndNpm(), "node 18+ and npm are not installed");
    List<String> reasons = new ArrayList<>();
    Path firefox = ExternalTools.firefox(reasons);
    assumeTrue(firefox != null, () -> String.join("; ", reasons));
    Path work = Files.createDirectories(Path.of("target/console-firefox").toAbsolutePath());
    Path profile = work.resolve("profile");
    if (Files.exists(profile)) {
      try (Stream<Path> old = Files.walk(profile)) {
        for (Path p : old.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
    Files.createDirectories(profile);
    Files.createDirectories(SCREENSHOTS);
    // Node 20 has WebSocket behind a flag; later versions have it on.
    List<String> node = ExternalTools.available("node", "-e", "if (typeof WebSocket !== 'function') process.exit(1)")
        ? List.of("node", SCRIPT.toString()) : List.of("node", "--experimental-websocket", SCRIPT.toString());

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
}
