package io.flowgate.testsupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A gateway node as a real OS process ({@code java -cp <test classpath> io.flowgate.Main}) on shared Redis and
 * PostgreSQL, for tests that kill, stall or stop nodes: {@link #kill9()} ({@code SIGKILL}), {@link #stop()}
 * ({@code SIGTERM}), {@link #stopSignal()} / {@link #cont()} ({@code SIGSTOP} / {@code SIGCONT}). Its HTTP port is
 * free (0) and read from the "flowgate ready at" line; its output is kept (the last lines) for failure messages.
 * Run timings are compressed (claim idle 2 s, heartbeat 400 ms, reconcile every 500 ms after 1.5 s, reaper every
 * 200 ms). Blocking: use from the JUnit thread (or any test thread). Thread-safe. A JVM shutdown hook kills every node
 * still alive, so a killed test JVM leaves no gateway behind.
 */
public final class GatewayProcess implements AutoCloseable {

  /** Run timings compressed for tests; override any of them through {@code extraEnv}. */
  public static final Map<String, String> COMPRESSED_TIMINGS = Map.of(
      "FLOWGATE_RUNS_CLAIM_IDLE_MS", "2000",
      "FLOWGATE_RUNS_HEARTBEAT_MS", "400",
      "FLOWGATE_RUNS_RECONCILE_INTERVAL_MS", "500",
      "FLOWGATE_RUNS_RECONCILE_GRACE_MS", "1500",
      "FLOWGATE_RUNS_REAP_INTERVAL_MS", "200",
      "FLOWGATE_RUNS_QUEUE_BLOCK_MS", "200");

  /** The claim idle time of {@link #COMPRESSED_TIMINGS}. */
  public static final Duration CLAIM_IDLE = Duration.ofMillis(2000);

  private static final Pattern READY = Pattern.compile("flowgate ready at http://([^:/]+):(\\d+)/");
  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
  private static final int KEPT_LINES = 3000;
  private static final Set<GatewayProcess> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(p -> p.process.toHandle().destroyForcibly()),
        "gateway-process-reaper"));
  }

  private final String nodeId;
  private final Process process;
  private final Deque<String> lines = new ArrayDeque<>();
  private final CompletableFuture<Integer> ready = new CompletableFuture<>();
  private final Thread reader;
  private final long launchedAtNanos = System.nanoTime();
  private volatile int port = -1;
  private volatile boolean stopped;

  private GatewayProcess(String nodeId, Process process) {
    this.nodeId = nodeId;
    this.process = process;
    this.reader = new Thread(this::readOutput, "gateway-" + nodeId + "-output");
    this.reader.setDaemon(true);
  }

  /** Starts one node and waits for its ready line. */
  public static GatewayProcess start(String nodeId, GatewayUnderTest.Backing backing, Map<String, String> extraEnv) {
    GatewayProcess node = launch(nodeId, backing, extraEnv);
    node.awaitReady();
    return node;
  }

  /**
   * Starts several nodes at once (their JVMs boot in parallel) and waits until all are ready; if one fails, all are
   * killed and the failure names it with its output.
   */
  public static List<GatewayProcess> startAll(GatewayUnderTest.Backing backing, Map<String, String> extraEnv,
      String... nodeIds) {
    List<GatewayProcess> nodes = new ArrayList<>();
    try {
      for (String id : nodeIds) {
        nodes.add(launch(id, backing, extraEnv));
      }
      for (GatewayProcess node : nodes) {
        node.awaitReady();
      }
      return nodes;
    } catch (RuntimeException | Error e) {
      nodes.forEach(GatewayProcess::close);
      throw e;
    }
  }

  /** The env a node gets: the backing stores, a free loopback port, the admin token, compressed timings, extras. */
  public static Map<String, String> environment(String nodeId, GatewayUnderTest.Backing backing,
      Map<String, String> extraEnv) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("FLOWGATE_PG_URL", backing.pgUrl());
    env.put("FLOWGATE_REDIS_URL", backing.redisUrl());
    env.put("FLOWGATE_REDIS_KEY_PREFIX", backing.redisPrefix());
    env.put("FLOWGATE_HTTP_PORT", "0");
    env.put("FLOWGATE_HTTP_HOST", "127.0.0.1");
    env.put("FLOWGATE_HTTP_EVENT_LOOPS", "2");
    env.put("FLOWGATE_HTTP_SHUTDOWN_GRACE_SECONDS", "1");
    env.put("FLOWGATE_NODE_ID", nodeId);
    env.put("FLOWGATE_ADMIN_TOKEN", GatewayUnderTest.ADMIN_TOKEN);
    env.put("FLOWGATE_DECLARATIONS_DIR", "target/no-declarations");
    env.put("FLOWGATE_LOGGING_JSON", "false");
    env.putAll(COMPRESSED_TIMINGS);
    env.putAll(extraEnv);
    return env;
  }

  private static GatewayProcess launch(String nodeId, GatewayUnderTest.Backing backing,
      Map<String, String> extraEnv) {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-Dlogback.configurationFile=" + Path.of("src/test/resources/logback-test.xml").toAbsolutePath(),
        "-cp", System.getProperty("java.class.path"), "io.flowgate.Main")
        .redirectErrorStream(true);
    Map<String, String> env = pb.environment();
    env.keySet().removeIf(k -> k.startsWith("FLOWGATE_"));
    env.putAll(environment(nodeId, backing, extraEnv));
    try {
      GatewayProcess node = new GatewayProcess(nodeId, pb.start());
      LIVE.add(node);
      node.reader.start();
      return node;
    } catch (IOException e) {
      throw new IllegalStateException("cannot start gateway process " + nodeId + ": " + e, e);
    }
  }

  private void readOutput() {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
        StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        synchronized (lines) {
          lines.addLast(line);
          if (lines.size() > KEPT_LINES) {
            lines.removeFirst();
          }
        }
        if (!ready.isDone()) {
          Matcher m = READY.matcher(line);
          if (m.find()) {
            ready.complete(Integer.parseInt(m.group(2)));
          }
        }
      }
    } catch (IOException e) {
      // the process ended (or was killed); its output ends here
    }
    ready.completeExceptionally(new IllegalStateException("output ended before the ready line"));
  }

  private void awaitReady() {
    try {
      port = ready.get(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      System.out.printf("%s ready %d ms after launch%n", this, TimeUnit.NANOSECONDS.toMillis(System.nanoTime()
          - launchedAtNanos));
    } catch (Exception e) {
      close();
      throw new AssertionError("gateway " + nodeId + " did not log its ready line within " + START_TIMEOUT.toSeconds()
          + " s (alive: " + process.isAlive() + "); output:\n" + output(), e);
    }
  }

  public String nodeId() {
    return nodeId;
  }

  public long pid() {
    return process.pid();
  }

  public int port() {
    return port;
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + port;
  }

  /** A blocking client for this node. */
  public TestHttp http() {
    return new TestHttp(baseUrl());
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** Whether the process is stopped by {@link #stopSignal()} (and not yet continued). */
  public boolean isStalled() {
    return stopped;
  }

  /** The last lines the node logged (stdout and stderr). */
  public String output() {
    synchronized (lines) {
      return String.join("\n", lines);
    }
  }

  /** The last {@code n} lines the node logged. */
  public String tail(int n) {
    synchronized (lines) {
      List<String> all = new ArrayList<>(lines);
      return String.join("\n", all.subList(Math.max(0, all.size() - n), all.size()));
    }
  }

  /** {@code kill -9}: no shutdown hook, no graceful stop; waits until the process is gone. */
  public void kill9() {
    // Through the handle: Process.destroyForcibly() would also close our end of its stdout.
    process.toHandle().destroyForcibly();
    awaitExit(Duration.ofSeconds(10));
    stopped = false;
    LIVE.remove(this);
  }

  /** SIGTERM, then waits for the graceful stop (kills it if it takes longer than 30 s); its exit code. */
  public int stop() {
    if (stopped) {
      cont();
    }
    process.toHandle().destroy();
    if (!awaitExit(Duration.ofSeconds(30))) {
      kill9();
    }
    LIVE.remove(this);
    return process.exitValue();
  }

  /** {@code kill -STOP}: the JVM freezes (a GC-pause stand-in); its sockets stay open. */
  public void stopSignal() {
    signal("-STOP");
    stopped = true;
  }

  /** {@code kill -CONT}: a node frozen by {@link #stopSignal()} runs on. */
  public void cont() {
    signal("-CONT");
    stopped = false;
  }

  private void signal(String signal) {
    try {
      Process kill = new ProcessBuilder("kill", signal, Long.toString(process.pid())).redirectErrorStream(true)
          .start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IllegalStateException("kill " + signal + " " + process.pid() + " failed: "
            + new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run kill " + signal + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private boolean awaitExit(Duration timeout) {
    try {
      return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Kills the node (SIGKILL works on a stopped process too). Idempotent. */
  @Override
  public void close() {
    if (process.isAlive()) {
      process.toHandle().destroyForcibly();
      awaitExit(Duration.ofSeconds(10));
    }
    LIVE.remove(this);
  }

  /** Kills every node of {@code nodes}, ignoring failures. */
  public static void closeAll(List<GatewayProcess> nodes) {
    if (nodes != null) {
      nodes.forEach(GatewayProcess::close);
    }
  }

  /** The pids of {@code nodes}, by node id. */
  public static Map<String, Long> pids(List<GatewayProcess> nodes) {
    Map<String, Long> pids = new HashMap<>();
    nodes.forEach(n -> pids.put(n.nodeId(), n.pid()));
    return Collections.unmodifiableMap(pids);
  }

  @Override
  public String toString() {
    return "gateway " + nodeId + " (pid " + process.pid() + ", port " + port + ")";
  }
}
