package io.flowgate;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.testsupport.TestHttp;
import io.flowgate.testsupport.TestHttp.Reply;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's first command, for real: {@code java -jar target/flowgate.jar} with nothing but a JDK starts the
 * embedded Redis and PostgreSQL, applies the demo declarations and answers the README's curl; SIGTERM stops it and
 * its embedded servers cleanly; a restart on the same data dir still has the run.
 */
class MainIT {
  private static final String DEMO = "af86a8a6-40f2-4b92-9f83-c9b3bafb2ccb";
  private static final String DEMO_API = "3c9a1f2e-8b7d-4e6a-9c5b-1d2e3f4a5b6c";
  private static final String DEMO_KEY = "sk-fGNTDKVjAOQ-Sag6rkygnZxhpnWerjKEpbS0jg";
  private static final String DEMO_API_KEY = "sk-Fm66pEdDG0F1tbi7G_nH3pWAK4-WpbpsdPxxdg";

  @TempDir
  Path dataDir;

  /** A started gateway process and the lines it logged. */
  private record Node(Process process, BlockingQueue<String> lines, List<String> all, int port, Thread reader) {}

  private Node start(int port) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-jar", System.getProperty("flowgate.jar", "target/flowgate.jar"))
        .redirectErrorStream(true);
    pb.environment().put("FLOWGATE_HTTP_PORT", Integer.toString(port));
    pb.environment().put("FLOWGATE_HTTP_HOST", "127.0.0.1");
    pb.environment().put("FLOWGATE_DATA_DIR", dataDir.toString());
    pb.environment().put("FLOWGATE_LOGGING_JSON", "false");
    pb.environment().remove("FLOWGATE_PG_URL");
    pb.environment().remove("FLOWGATE_REDIS_URL");
    Process p = pb.start();
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    List<String> all = java.util.Collections.synchronizedList(new ArrayList<>());
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          lines.add(line);
          all.add(line);
        }
      } catch (IOException ignored) {
        // the process ended
      }
    });
    reader.setDaemon(true);
    reader.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (System.nanoTime() < deadline) {
      String line = lines.poll(1, TimeUnit.SECONDS);
      if (line != null && line.contains("flowgate ready at http://127.0.0.1:" + port + "/")) {
        return new Node(p, lines, all, port, reader);
      }
      if (!p.isAlive()) {
        break;
      }
    }
    p.destroyForcibly();
    throw new AssertionError("gateway did not log its ready line; output:\n" + String.join("\n", all));
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static void stop(Node node) throws Exception {
    List<ProcessHandle> children = node.process().descendants().toList();
    assertThat(children).as("embedded redis-server and postgres run as children").isNotEmpty();
    // SIGTERM through the handle: Process.destroy() would also close our end of its stdout.
    node.process().toHandle().destroy();
    assertThat(node.process().waitFor(60, TimeUnit.SECONDS)).as("stops within a minute").isTrue();
    node.reader().join(10_000);
    for (ProcessHandle child : children) {
      child.onExit().get(10, TimeUnit.SECONDS);
      assertThat(child.isAlive()).as("child %s stopped", child.pid()).isFalse();
    }
  }

  @Test
  void a_fresh_start_answers_the_demo_curl_stops_cleanly_and_keeps_its_runs() throws Exception {
    int port = freePort();
    Node first = start(port);
    String runId;
    try {
      TestHttp http = new TestHttp("http://127.0.0.1:" + port);
      Reply r = http.trigger(DEMO, DEMO_KEY, "{\"input_data\": {\"name\": \"Ada\"}}");
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      assertThat(r.data().getJsonObject("output_data").getString("greeting")).isEqualTo("Hello, Ada!");
      runId = r.data().getString("flow_run_id");
      Reply api = http.trigger(DEMO_API, DEMO_API_KEY, "{\"input_data\": {\"name\": \"Grace\"}}");
      assertThat(api.status()).as(api.toString()).isEqualTo(200);
      assertThat(api.data().getJsonObject("output_data").getString("greeting")).isEqualTo("Hello, Grace!");
      assertThat(http.send("GET", "/health/ready", null).status()).isEqualTo(200);
      assertThat(first.all()).noneMatch(l -> l.contains(DEMO_KEY));
    } finally {
      stop(first);
    }
    assertThat(first.all()).as("exit %d, output %s", first.process().exitValue(), first.all())
        .anyMatch(l -> l.contains("stopping"));

    Node second = start(port);
    try {
      Reply poll = new TestHttp("http://127.0.0.1:" + port).send("GET", "/node/flow-runs/" + runId + "/", null,
          "X-API-Key", DEMO_KEY);
      assertThat(poll.status()).as(poll.toString()).isEqualTo(200);
      assertThat(poll.data().getString("status")).isEqualTo("completed");
    } finally {
      stop(second);
    }
    assertThat(Files.exists(dataDir.resolve("pg"))).isTrue();
  }

  @Test
  void bad_configuration_is_listed_and_exits_non_zero() throws Exception {
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-jar", System.getProperty("flowgate.jar", "target/flowgate.jar")).redirectErrorStream(true);
    pb.environment().put("FLOWGATE_HTTP_PORT", "not-a-port");
    pb.environment().put("FLOWGATE_ADMIN_TOKEN", "short");
    Process p = pb.start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(out).contains("FLOWGATE_HTTP_PORT").contains("FLOWGATE_ADMIN_TOKEN").doesNotContain("Exception");
  }
}
