package io.flowgate.console;

import static io.flowgate.testsupport.ControlPlane.problemCode;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.testsupport.GatewayUnderTest;
import io.flowgate.testsupport.TestHttp;
import io.flowgate.testsupport.TestHttp.Reply;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * How the gateway serves the web console: the redirect, index.html (never cached) naming hashed asset URLs (cached
 * for a year), content types, the strict CSP and nosniff on every answer, 404 without a listing for anything else,
 * 405 for writes; and that the files keep to what that CSP allows and call only the public API.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsoleHandlerTest {
  private static final Path SOURCE = Path.of("src/main/resources/console");
  private static final Pattern ASSET = Pattern.compile("(?:href|src)=\"(a/([0-9a-f]{12})/[^\"]+)\"");
  private GatewayUnderTest gateway;
  private TestHttp http;

  @BeforeAll
  void start() {
    gateway = GatewayUnderTest.start(getClass(), 1);
    http = gateway.http();
  }

  @AfterAll
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
  }

  private static void assertSecured(Reply reply) {
    assertThat(reply.header("Content-Security-Policy")).as(reply.toString())
        .isEqualTo(ConsoleHandler.CSP)
        .contains("default-src 'none'", "script-src 'self'", "frame-ancestors 'none'")
        .doesNotContain("unsafe-inline", "unsafe-eval");
    assertThat(reply.header("X-Content-Type-Options")).isEqualTo("nosniff");
    assertThat(reply.header("Referrer-Policy")).isEqualTo("no-referrer");
  }

  @Test
  void console_without_a_slash_redirects_to_the_console() {
    Reply reply = http.send("GET", "/console", null);
    assertThat(reply.status()).isEqualTo(301);
    assertThat(reply.header("Location")).isEqualTo("/console/");
    assertSecured(reply);
  }

  @Test
  void the_page_is_revalidated_on_every_load_and_names_assets_that_are_cached_for_a_year() {
    Reply index = http.send("GET", "/console/", null);
    assertThat(index.status()).isEqualTo(200);
    assertThat(index.header("Content-Type")).isEqualTo("text/html; charset=utf-8");
    assertThat(index.header("Cache-Control")).isEqualTo("no-cache");
    assertSecured(index);
    assertThat(http.send("GET", "/console/index.html", null).body()).isEqualTo(index.body());

    Matcher m = ASSET.matcher(index.body());
    int assets = 0;
    while (m.find()) {
      assets++;
      Reply asset = http.send("GET", "/console/" + m.group(1), null);
      assertThat(asset.status()).as(m.group(1)).isEqualTo(200);
      assertThat(asset.header("Cache-Control")).isEqualTo("public, max-age=31536000, immutable");
      assertSecured(asset);
      String type = asset.header("Content-Type");
      if (m.group(1).endsWith(".js")) {
        assertThat(type).isEqualTo("text/javascript; charset=utf-8");
      } else if (m.group(1).endsWith(".css")) {
        assertThat(type).isEqualTo("text/css; charset=utf-8");
      } else {
        assertThat(type).isEqualTo("image/svg+xml");
      }
      // Another version of the same file is not served: a stale page cannot mix two builds.
      Reply stale = http.send("GET", "/console/" + m.group(1).replace(m.group(2), "000000000000"), null);
      assertThat(stale.status()).isEqualTo(404);
    }
    assertThat(assets).as("the page links its stylesheet, script and icon").isGreaterThanOrEqualTo(3);
    Reply module = http.send("GET", "/console/a/" + versionOf(index.body()) + "/js/pages/deployment.js", null);
    assertThat(module.status()).as("modules imported by main.js").isEqualTo(200);
  }

  @Test
  void anything_else_is_404_problem_json_without_a_listing() {
    String version = versionOf(http.send("GET", "/console/", null).body());
    for (String path : List.of("/console/a/", "/console/a/" + version + "/", "/console/a/" + version + "/js/",
        "/console/js/main.js", "/console/index.txt", "/console/a/" + version + "/index.txt")) {
      Reply reply = http.send("GET", path, null);
      assertThat(reply.status()).as(path).isEqualTo(404);
      assertThat(problemCode(reply)).isEqualTo("not_found");
      assertSecured(reply);
    }
    assertThat(http.send("GET", "/consoles", null).status()).isEqualTo(404);
  }

  @Test
  void writes_are_405_with_the_methods_allowed() {
    Reply reply = http.send("POST", "/console/", "{}", "Content-Type", "application/json");
    assertThat(reply.status()).isEqualTo(405);
    assertThat(reply.header("Allow")).isEqualTo("GET, HEAD");
    assertThat(problemCode(reply)).isEqualTo("method_not_allowed");
    assertThat(reply.json().getString("message")).contains("/api/v1");
  }

  @Test
  void head_answers_the_headers_without_a_body() {
    Reply reply = http.send("HEAD", "/console/", null);
    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.body()).isEmpty();
    assertSecured(reply);
  }

  @Test
  void the_index_lists_exactly_the_files_of_the_source_tree() throws IOException {
    List<String> files;
    try (Stream<Path> paths = Files.walk(SOURCE)) {
      files = paths.filter(Files::isRegularFile).map(p -> SOURCE.relativize(p).toString().replace('\\', '/'))
          .filter(n -> !n.equals("index.txt")).sorted().toList();
    }
    ConsoleAssets assets = ConsoleAssets.load(ConsoleAssets.DEFAULT_DIR);
    List<String> listed = new java.util.ArrayList<>(assets.names());
    listed.add(ConsoleAssets.INDEX);
    assertThat(listed).as("add every console file to src/main/resources/console/index.txt")
        .containsExactlyInAnyOrderElementsOf(files);
  }

  @Test
  void the_files_keep_to_the_csp_and_call_only_the_public_api() throws IOException {
    try (Stream<Path> paths = Files.walk(SOURCE)) {
      for (Path file : paths.filter(Files::isRegularFile).toList()) {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        String name = SOURCE.relativize(file).toString();
        if (name.endsWith(".html")) {
          assertThat(text).as(name).doesNotContainPattern("<script(?![^>]*\\ssrc=)").doesNotContain(" style=",
              "<style", " onclick=", "javascript:");
        }
        if (name.endsWith(".js")) {
          assertThat(text).as("%s: markup from strings, eval and inline styles break the CSP or invite XSS", name)
              .doesNotContain("innerHTML", "outerHTML", "insertAdjacentHTML", "eval(", "new Function",
                  "setAttribute('style'", "localStorage.setItem", "document.cookie =");
          if (!name.equals("js/api.js")) {
            assertThat(text).as("%s: every call goes through api.js (the public /api/v1)", name)
                .doesNotContain("fetch(");
          }
        }
      }
    }
    assertThat(Files.readString(SOURCE.resolve("js/api.js"))).contains("fetch(`/api/v1${path}`");
  }

  @Test
  void the_asset_version_is_a_stable_hash_filled_into_the_page() {
    ConsoleAssets assets = ConsoleAssets.load(ConsoleAssets.DEFAULT_DIR);
    assertThat(assets.version()).matches("[0-9a-f]{12}");
    assertThat(assets.index().toString()).doesNotContain(ConsoleAssets.VERSION_PLACEHOLDER)
        .contains("a/" + assets.version() + "/js/main.js");
    assertThat(ConsoleAssets.load(ConsoleAssets.DEFAULT_DIR).version()).isEqualTo(assets.version());
  }

  private static String versionOf(String html) {
    Matcher m = ASSET.matcher(html);
    assertThat(m.find()).isTrue();
    return m.group(2);
  }
}
