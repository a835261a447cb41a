package io.flowgate.inference.reference;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.testsupport.TestHttp;
import io.flowgate.testsupport.TestHttp.Reply;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code flowgate reference-inference} as its own process, through {@link io.flowgate.Main}: port 0 is reported by
 * the ready log line, {@code PORT} works, SIGTERM stops it, bad arguments exit 2 with the usage.
 */
class ReferenceInferenceMainTest {
  private static final Pattern READY = Pattern.compile(
      "reference inference server ready at http://127\\.0\\.0\\.1:(\\d+)/ \\(model iris, accuracy (\\d\\.\\d\\d), "
          + "boot (\\d+) ms\\)");
  private final List<Process> started = new ArrayList<>();

  /** A started child and every line it printed (stdout and stderr merged). */
  private record Child(Process process, BlockingQueue<String> lines, List<String> all) {
    /** Waits for a line matching {@code pattern}; fails with the whole output if the deadline passes first. */
    Matcher await(Pattern pattern, int seconds) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      while (System.nanoTime() < deadline) {
        String line = lines.poll(200, TimeUnit.MILLISECONDS);
        if (line != null) {
          Matcher m = pattern.matcher(line);
          if (m.find()) {
            return m;
          }
        } else if (!process.isAlive() && lines.isEmpty()) {
          break;
        }
      }
      throw new AssertionError("no line matching " + pattern + "; output:\n" + String.join("\n", all));
    }
  }

  @AfterEach
  void killLeftovers() {
    started.forEach(Process::destroyForcibly);
  }

  @Test
  void serves_on_the_port_its_ready_line_names_and_stops_on_sigterm() throws Exception {
    Child child = start(Map.of(), "reference-inference", "--port", "0", "--host", "127.0.0.1", "--instances", "1");
    Matcher ready = child.await(READY, 60);
    int port = Integer.parseInt(ready.group(1));
    assertThat(port).isPositive();
    assertThat(Double.parseDouble(ready.group(2))).isGreaterThanOrEqualTo(0.9);

    TestHttp http = new TestHttp("http://127.0.0.1:" + port);
    Reply r = http.send("POST", "/predict", "{\"features\": [6.7, 3.0, 5.2, 2.3]}");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getString("label")).isEqualTo("virginica");
    assertThat(http.send("GET", "/v2/health/ready", null).status()).isEqualTo(200);

    // SIGTERM through the handle: Process.destroy() would also close our end of its stdout.
    child.process().toHandle().destroy();
    assertThat(child.process().waitFor(30, TimeUnit.SECONDS)).as("stops within 30 s").isTrue();
    child.await(Pattern.compile("reference inference server stopping"), 5);
    assertThat(child.process().exitValue()).isEqualTo(143);
  }

  @Test
  void takes_its_port_from_the_PORT_environment_variable() throws Exception {
    int port = freePort();
    Child child = start(Map.of("PORT", Integer.toString(port)), "reference-inference", "--instances", "1");
    Matcher ready = child.await(READY, 60);
    assertThat(Integer.parseInt(ready.group(1))).isEqualTo(port);
    assertThat(new TestHttp("http://127.0.0.1:" + port).send("GET", "/health", null).status()).isEqualTo(200);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"--port abc", "--port 1 --bogus", "--boot-seconds 1", "--port 1 --boot-seconds -2"})
  void bad_arguments_print_the_usage_on_stderr_and_exit_2(String args) throws Exception {
    List<String> argv = new ArrayList<>(List.of("reference-inference"));
    argv.addAll(List.of(args.split(" ")));
    ProcessBuilder pb = command(argv);
    pb.environment().remove("PORT");
    Process p = pb.start();
    started.add(p);
    String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String stderr = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(stderr).isEqualTo(2);
    assertThat(stderr).startsWith("flowgate reference-inference: ").contains("usage: java -jar flowgate.jar "
        + "reference-inference --port N");
    assertThat(stdout).isEmpty();
  }

  @Test
  void main_help_mentions_the_subcommand() throws Exception {
    Process p = command(List.of("--help")).start();
    started.add(p);
    String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isZero();
    assertThat(stdout).contains("reference-inference --port N");
  }

  private Child start(Map<String, String> env, String... args) throws IOException {
    ProcessBuilder pb = command(List.of(args)).redirectErrorStream(true);
    pb.environment().remove("PORT");
    pb.environment().putAll(env);
    Process p = pb.start();
    started.add(p);
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    List<String> all = Collections.synchronizedList(new ArrayList<>());
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          all.add(line);
          lines.add(line);
        }
      } catch (IOException ignored) {
        // the process ended
      }
    }, "reference-inference-child-output");
    reader.setDaemon(true);
    reader.start();
    return new Child(p, lines, all);
  }

  /** {@code java -cp <this JVM's class path> io.flowgate.Main args...}. */
  private static ProcessBuilder command(List<String> args) {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx128m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), "io.flowgate.Main"));
    cmd.addAll(args);
    return new ProcessBuilder(cmd);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
