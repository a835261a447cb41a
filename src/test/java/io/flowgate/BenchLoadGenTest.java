package io.flowgate;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import java.io.File;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * bench/LoadGen.java, the suite's fixed-rate generator, as bench/run.sh runs it (compiled, its own JVM): its latency
 * rows are only as true as what it sends and counts. Against a real server on port 0: the request it sends (method,
 * path and query, headers, body), every framing of an answer (length, chunked, {@code Connection: close}), error
 * statuses, a server that never answers, a port nobody listens on, and bad options. Rates and durations are small; no
 * latency is asserted beyond "answered".
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BenchLoadGenTest {
  private static final String BODY = "{\"input_data\": {\"features\": [5.1, 3.5, 1.4, 0.2]}}";

  @TempDir
  static Path classes;
  private static Vertx vertx;
  private static HttpServer server;
  private static final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
  private static final Set<String> seen = ConcurrentHashMap.newKeySet();

  @BeforeAll
  static void compileAndServe() throws Exception {
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    int rc = javac.run(null, null, null, "-nowarn", "-proc:none", "-cp", System.getProperty("java.class.path"),
        "-d", classes.toString(), "bench/LoadGen.java");
    assertThat(rc).as("javac bench/LoadGen.java").isZero();

    vertx = Vertx.vertx();
    server = vertx.createHttpServer().requestHandler(BenchLoadGenTest::answer).listen(0, "127.0.0.1")
        .timeout(30, TimeUnit.SECONDS).await();
  }

  private static void answer(HttpServerRequest req) {
    req.body().onSuccess(body -> {
      hits.computeIfAbsent(req.path(), p -> new AtomicInteger()).incrementAndGet();
      seen.add(req.method() + " " + req.uri() + " key=" + req.getHeader("X-API-Key") + " type="
          + req.getHeader("Content-Type") + " body=" + body.toString(StandardCharsets.UTF_8));
      switch (req.path()) {
        case "/length" -> req.response().end("{\"ok\":true}");
        case "/chunked" -> req.response().setChunked(true).write("{\"ok\":").compose(v -> req.response().end("true}"));
        case "/close" -> req.response().putHeader("Connection", "close").end("{\"ok\":true}");
        case "/fail" -> req.response().setStatusCode(503).end("{\"status\":\"error\"}");
        default -> {
          // /hang: never answered
        }
      }
    });
  }

  @AfterAll
  static void stop() {
    if (vertx != null) {
      vertx.close().timeout(30, TimeUnit.SECONDS).await();
    }
  }

  @Test
  void sends_the_request_at_the_rate_and_counts_every_framing_and_status() throws Exception {
    String base = "http://127.0.0.1:" + server.actualPort();
    Result r = run("--url", base + "/length?x=1", "--url", base + "/chunked", "--url", base + "/close",
        "--url", base + "/fail", "--rate", "400", "--duration", "2", "--warmup", "1", "--threads", "2",
        "--connections", "8", "--header", "X-API-Key:sk-test", "--header", "Content-Type:application/json",
        "--body", BODY);

    assertThat(r.exit).as(r.out).isZero();
    // 2 s recorded at 400/s, round-robin over the four URLs; the warm-up second is sent but not counted.
    assertThat(r.field("sent")).isEqualTo("800");
    assertThat(r.field("answered")).isEqualTo("800");
    assertThat(r.field("statuses")).isEqualTo("200:600,503:200");
    assertThat(r.field("errors")).isEqualTo("200");
    assertThat(r.field("timeouts")).isEqualTo("0");
    assertThat(r.field("achieved_rps")).isEqualTo("300");
    assertThat(Double.parseDouble(r.field("p50_ms"))).isPositive();
    assertThat(hits.get("/length").get()).isEqualTo(300);
    assertThat(hits.get("/chunked").get()).isEqualTo(300);
    assertThat(hits.get("/close").get()).isEqualTo(300);
    assertThat(hits.get("/fail").get()).isEqualTo(300);
    assertThat(seen).contains("POST /length?x=1 key=sk-test type=application/json body=" + BODY,
        "POST /chunked key=sk-test type=application/json body=" + BODY);
  }

  @Test
  void a_server_that_never_answers_gives_timeouts_and_the_run_still_ends() throws Exception {
    Result r = run("--url", "http://127.0.0.1:" + server.actualPort() + "/hang", "--rate", "50", "--duration", "1",
        "--warmup", "0", "--threads", "1", "--connections", "4", "--timeout-ms", "300");

    assertThat(r.exit).as(r.out).isZero();
    assertThat(r.field("answered")).isEqualTo("50");
    assertThat(r.field("timeouts")).isEqualTo("50");
    assertThat(r.field("errors")).isEqualTo("50");
    assertThat(r.field("statuses")).isEqualTo("Timeout:50");
    assertThat(r.field("achieved_rps")).isEqualTo("0");
  }

  @Test
  void a_port_nobody_listens_on_gives_errors_and_the_run_still_ends() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Result r = run("--url", "http://127.0.0.1:" + port + "/x", "--rate", "50", "--duration", "1", "--warmup", "0",
        "--threads", "1", "--connections", "2", "--timeout-ms", "1000");

    assertThat(r.exit).as(r.out).isZero();
    assertThat(r.field("answered")).isEqualTo("50");
    assertThat(r.field("errors")).isEqualTo("50");
    assertThat(r.field("statuses")).contains("ConnectException");
  }

  @Test
  void bad_options_exit_with_2_and_say_why() throws Exception {
    Result noRate = run("--url", "http://127.0.0.1:1/", "--duration", "1");
    assertThat(noRate.exit).isEqualTo(2);
    assertThat(noRate.out).contains("need --url, --rate > 0").contains("usage:");

    Result badHeader = run("--url", "http://127.0.0.1:1/", "--rate", "1", "--duration", "1", "--header", "nocolon");
    assertThat(badHeader.exit).isEqualTo(2);
    assertThat(badHeader.out).contains("--header wants Name:value, got nocolon");
  }

  private record Result(int exit, String out) {
    String field(String name) {
      for (String line : out.split("\n")) {
        if (line.startsWith("RESULT ")) {
          for (String kv : line.substring(7).split(" ")) {
            if (kv.startsWith(name + "=")) {
              return kv.substring(name.length() + 1);
            }
          }
        }
      }
      throw new AssertionError("no " + name + " in the output:\n" + out);
    }
  }

  private static Result run(String... args) throws Exception {
    hits.clear();
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx128m", "-XX:TieredStopAtLevel=1", "-cp",
        classes + File.pathSeparator + System.getProperty("java.class.path"), "LoadGen"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    boolean ended = p.waitFor(60, TimeUnit.SECONDS);
    if (!ended) {
      p.destroyForcibly();
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(ended).as("LoadGen ended; output:\n" + out).isTrue();
    return new Result(p.exitValue(), out);
  }
}
