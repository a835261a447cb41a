package io.flowgate.cluster;

import static io.flowgate.cluster.ClusterFixtures.async;
import static io.flowgate.cluster.ClusterFixtures.deploy;
import static io.flowgate.cluster.ClusterFixtures.liveClients;
import static io.flowgate.cluster.ClusterFixtures.outputs;
import static io.flowgate.cluster.ClusterFixtures.probeFlow;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.backends.EmbeddedBackends;
import io.flowgate.cluster.ClusterFixtures.Deployment;
import io.flowgate.testsupport.GatewayProcess;
import io.flowgate.testsupport.GatewayUnderTest;
import io.flowgate.testsupport.Ledger;
import io.flowgate.testsupport.ProbeServer;
import io.flowgate.testsupport.TestBackends;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * RELIABILITY Q3 with real processes: two gateway nodes on their own redis-server (AOF on, the embedded one) and the
 * shared PostgreSQL; under a steady trickle of async triggers (20/s) the redis-server is killed with {@code kill -9}
 * and restarted on the same port and data dir. While it is down triggers are refused quickly with 503
 * {@code service_unavailable} (problem+json, Retry-After) — or, when a write may have landed before the connection
 * broke, accepted from PostgreSQL's record with a 202 that must then complete; after the restart 202s resume; every
 * 202, before, during or after the crash, reaches a terminal status. {@code EmbeddedBackends} picks a new free port at each start,
 * so the restart runs the same extracted redis-server binary directly, on the old port and dir.
 */
class RedisRestartTest {
  private static final Duration COMMAND_TIMEOUT = Duration.ofMillis(500);
  private static final Duration HEALTHY = Duration.ofSeconds(3);
  private static final Duration OUTAGE = Duration.ofSeconds(4);
  private static final long INTERVAL_MS = 50;

  @Test
  @Timeout(value = 150, unit = TimeUnit.SECONDS)
  void while_redis_is_down_triggers_get_a_quick_503_and_every_202_before_and_after_its_restart_completes()
      throws Exception {
    Path dir = Path.of("target", "redis-restart-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()))
        .toAbsolutePath();
    EmbeddedBackends embedded = EmbeddedBackends.start(dir, false, true);
    Process restarted = null;
    List<GatewayProcess> nodes = List.of();
    ProbeServer probes = ProbeServer.start(Duration.ofMillis(200));
    try {
      int port = URI.create(embedded.redisUrl()).getPort();
      GatewayUnderTest.Backing backing = new GatewayUnderTest.Backing(TestBackends.newDatabase("RedisRestartTest"),
          embedded.redisUrl(), "fgtest:redisrestart:");
      nodes = GatewayProcess.startAll(backing,
          Map.of("FLOWGATE_REDIS_COMMAND_TIMEOUT_MS", Long.toString(COMMAND_TIMEOUT.toMillis())),
          "redis-a", "redis-b");
      List<GatewayProcess> cluster = nodes;
      Deployment d = deploy(nodes.get(0).http(), probeFlow("trickle", probes.url(), 0), async("api"));
      Ledger ledger = new Ledger("trickle");

      // The trickle: one trigger every 50 ms, alternating nodes, each on its own thread so slow answers do not
      // slow the rate.
      AtomicBoolean sending = new AtomicBoolean(true);
      AtomicInteger turn = new AtomicInteger();
      ExecutorService senders = Executors.newFixedThreadPool(16);
      Thread driver = new Thread(() -> {
        while (sending.get()) {
          GatewayProcess node = cluster.get(Math.floorMod(turn.getAndIncrement(), cluster.size()));
          senders.submit(() -> ledger.trigger(node, d.id(), d.apiKey()));
          try {
            Thread.sleep(INTERVAL_MS);
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "trickle");
      driver.start();

      Awaitility.await().atMost(HEALTHY.plusSeconds(10)).pollInterval(Duration.ofMillis(100))
          .until(() -> ledger.entries().stream().filter(Ledger.Entry::accepted).count() >= 20);
      RedisInfo info = RedisInfo.read(port);
      ProcessHandle server = ProcessHandle.of(info.pid()).orElseThrow();
      assertThat(ProcessHandle.current().descendants().anyMatch(p -> p.pid() == info.pid()))
          .as("the redis-server to kill (pid %d) was started by this test", info.pid()).isTrue();
      String executable = info.executable() != null ? info.executable()
          : server.info().command().orElseThrow(() -> new AssertionError("cannot tell the redis-server binary"));
      long killedAt = System.nanoTime();
      ledger.mark("redis killed");
      server.destroyForcibly();
      server.onExit().get(10, TimeUnit.SECONDS);

      Awaitility.await().atMost(OUTAGE.plusSeconds(1)).pollInterval(Duration.ofMillis(50))
          .until(() -> System.nanoTime() - killedAt >= OUTAGE.toNanos());
      long restartAt = System.nanoTime();
      ledger.mark("redis restart begun");
      Path redisDir = dir.resolve("redis");
      restarted = new ProcessBuilder(executable, "--port", Integer.toString(port), "--bind", "127.0.0.1",
          "--dir", redisDir.toString(), "--appendonly", "yes", "--appendfsync", "everysec",
          "--protected-mode", "yes")
          .redirectErrorStream(true)
          .redirectOutput(redisDir.resolve("restarted.log").toFile())
          .start();
      Process again = restarted;
      Awaitility.await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(50))
          .until(() -> again.isAlive() && RedisInfo.pong(port));
      long upAt = System.nanoTime();
      ledger.mark("redis answering again");

      // 202s must resume; then the trickle goes on for three more seconds.
      Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
          .until(() -> ledger.entries().stream().anyMatch(e -> e.sentAtNanos() > upAt && e.status() == 202));
      long firstAcceptedAfter = ledger.entries().stream()
          .filter(e -> e.sentAtNanos() > upAt && e.status() == 202)
          .mapToLong(e -> e.sentAtNanos() + e.latencyNanos()).min().orElseThrow();
      Awaitility.await().atMost(Duration.ofSeconds(4)).pollInterval(Duration.ofMillis(50))
          .until(() -> System.nanoTime() - firstAcceptedAfter >= TimeUnit.SECONDS.toNanos(3));
      sending.set(false);
      driver.join(5_000);
      senders.shutdown();
      assertThat(senders.awaitTermination(40, TimeUnit.SECONDS)).isTrue();

      List<Ledger.Entry> duringOutage = ledger.entries().stream()
          .filter(e -> e.sentAtNanos() > killedAt && e.sentAtNanos() + e.latencyNanos() < restartAt).toList();
      List<Ledger.Entry> lateAfter = ledger.entries().stream()
          .filter(e -> e.sentAtNanos() > firstAcceptedAfter + TimeUnit.SECONDS.toNanos(1)).toList();

      int notTerminal = ledger.drain(liveClients(nodes), Duration.ofSeconds(60));
      ledger.verifyTerminalStatesUnchanged(nodes.stream().map(GatewayProcess::http).toList());
      ledger.verifyHistory(backing.pgUrl(), Duration.ofSeconds(15));
      Ledger.Report report = ledger.report(probes);
      double maxOutageMs = duringOutage.stream().mapToDouble(Ledger.Entry::latencyMs).max().orElse(0);
      System.out.printf("redis: killed pid %d; during the %d ms outage %d triggers, answers %s, max latency %.0f ms;"
              + " redis back %d ms after restart; first 202 %d ms after that; not terminal after drain: %d%n",
          info.pid(), TimeUnit.NANOSECONDS.toMillis(restartAt - killedAt), duringOutage.size(),
          duringOutage.stream().map(e -> e.status() + " " + e.code()).distinct().toList(), maxOutageMs,
          TimeUnit.NANOSECONDS.toMillis(upAt - restartAt), TimeUnit.NANOSECONDS.toMillis(firstAcceptedAfter - upAt),
          notTerminal);

      assertThat(duringOutage).as("triggers sent and answered while Redis was down").hasSizeGreaterThan(10);
      // A trigger whose Redis write failed with a refused connection is refused (503). One whose write may have
      // landed (a connection that broke under it, a timeout) is accepted from PostgreSQL's record (202) and must
      // complete like any other: the ledger checks that below.
      assertThat(duringOutage.stream().filter(e -> e.status() == 503).count())
          .as("most triggers during the outage are refused").isGreaterThan(duringOutage.size() / 2);
      for (Ledger.Entry e : duringOutage) {
        assertThat(e.status()).as("503 or a durable 202 while Redis is down: %s", e).isIn(503, 202);
        if (e.status() == 503) {
          assertThat(e.code()).as(e.toString()).isEqualTo("service_unavailable");
          assertThat(e.contentType()).as(e.toString()).startsWith("application/problem+json");
          assertThat(e.retryAfter()).as("Retry-After of %s", e).isNotBlank();
        }
        assertThat(e.latencyMs()).as("an answer while Redis is down comes within a few command timeouts: %s", e)
            .isLessThan(COMMAND_TIMEOUT.toMillis() * 6.0);
      }
      assertThat(lateAfter).as("triggers sent a second after 202s resumed").isNotEmpty()
          .allSatisfy(e -> assertThat(e.status()).as(e.toString()).isEqualTo(202));
      report.assertNoLossAndOneTerminalStatePerRun();
      assertThat(report.terminalStatuses()).as(report.line() + outputs(nodes, 40)).containsOnlyKeys("completed");
    } finally {
      GatewayProcess.closeAll(nodes);
      probes.close();
      if (restarted != null) {
        restarted.destroyForcibly();
        restarted.waitFor(10, TimeUnit.SECONDS);
      }
      embedded.close();
      deleteRecursively(dir);
    }
  }

  /** What {@code INFO server} says about a redis-server on loopback. */
  private record RedisInfo(long pid, String executable) {
    static RedisInfo read(int port) throws IOException {
      String info = command(port, "INFO", "server");
      long pid = -1;
      String executable = null;
      for (String line : info.split("\r\n")) {
        if (line.startsWith("process_id:")) {
          pid = Long.parseLong(line.substring("process_id:".length()).trim());
        } else if (line.startsWith("executable:")) {
          String exe = line.substring("executable:".length()).trim();
          executable = exe.isEmpty() || !Files.isExecutable(Path.of(exe)) ? null : exe;
        }
      }
      if (pid < 0) {
        throw new IOException("no process_id in INFO server: " + info);
      }
      return new RedisInfo(pid, executable);
    }

    /** Whether the server answers PING with PONG (not while it is loading its AOF). */
    static boolean pong(int port) {
      try {
        return command(port, "PING").equals("PONG");
      } catch (IOException e) {
        return false;
      }
    }

    /** One RESP command; the simple or bulk string reply (an error reply as "-ERR ..."). */
    private static String command(int port, String... args) throws IOException {
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
        socket.setSoTimeout(2000);
        StringBuilder req = new StringBuilder("*" + args.length + "\r\n");
        for (String a : args) {
          req.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(a).append("\r\n");
        }
        OutputStream out = socket.getOutputStream();
        out.write(req.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
        InputStream in = socket.getInputStream();
        String first = readLine(in);
        if (first.startsWith("+")) {
          return first.substring(1);
        }
        if (first.startsWith("$")) {
          int len = Integer.parseInt(first.substring(1));
          byte[] body = in.readNBytes(len + 2);
          return new String(body, 0, len, StandardCharsets.UTF_8);
        }
        return first;
      }
    }

    private static String readLine(InputStream in) throws IOException {
      StringBuilder sb = new StringBuilder();
      for (int c; (c = in.read()) != -1; ) {
        if (c == '\n') {
          break;
        }
        if (c != '\r') {
          sb.append((char) c);
        }
      }
      return sb.toString();
    }
  }

  private static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a leftover dir under target/ is harmless
    }
  }
}
