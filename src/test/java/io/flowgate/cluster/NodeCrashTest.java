package io.flowgate.cluster;

import static io.flowgate.cluster.ClusterFixtures.async;
import static io.flowgate.cluster.ClusterFixtures.awaitOrExplain;
import static io.flowgate.cluster.ClusterFixtures.deploy;
import static io.flowgate.cluster.ClusterFixtures.liveClients;
import static io.flowgate.cluster.ClusterFixtures.outputs;
import static io.flowgate.cluster.ClusterFixtures.poll;
import static io.flowgate.cluster.ClusterFixtures.probeFlow;
import static io.flowgate.cluster.ClusterFixtures.sync;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.cluster.ClusterFixtures.Deployment;
import io.flowgate.testsupport.GatewayProcess;
import io.flowgate.testsupport.GatewayUnderTest;
import io.flowgate.testsupport.Ledger;
import io.flowgate.testsupport.ProbeServer;
import io.flowgate.testsupport.TestHttp.Reply;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * RELIABILITY Q1 and Q10 with real processes: three gateway nodes on one Redis and PostgreSQL; a node is killed with
 * {@code kill -9} while it executes runs. The survivors take its runs over after the claim idle time and every
 * accepted run completes once; a sync caller whose node died gets the same run by retrying its Idempotency-Key on
 * another node. Each test kills one node (the last one alive other than the first).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NodeCrashTest {
  private static final int TRIGGERS = 90;
  private static final int KILL_AFTER = 30;

  private GatewayUnderTest.Backing backing;
  private ProbeServer probes;
  private List<GatewayProcess> nodes;

  @BeforeAll
  void start() {
    backing = GatewayUnderTest.Backing.fresh(NodeCrashTest.class);
    probes = ProbeServer.start(p -> p.startsWith("q10-") ? Duration.ofSeconds(3) : Duration.ofMillis(800));
    nodes = GatewayProcess.startAll(backing, Map.of(), "crash-a", "crash-b", "crash-c");
  }

  @AfterAll
  void stop() {
    GatewayProcess.closeAll(nodes);
    if (probes != null) {
      probes.close();
    }
  }

  private GatewayProcess victim() {
    List<GatewayProcess> alive = nodes.stream().filter(GatewayProcess::isAlive).toList();
    assertThat(alive).as("nodes alive").hasSizeGreaterThanOrEqualTo(2);
    return alive.get(alive.size() - 1);
  }

  @Test
  @Order(1)
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void every_async_run_accepted_around_a_kill_9_completes_exactly_once_on_the_surviving_nodes() throws Exception {
    Deployment d = deploy(nodes.get(0).http(), probeFlow("crash-async", probes.url(), 0), async("api"));
    Ledger ledger = new Ledger("crash");
    GatewayProcess victim = victim();
    Map<String, Long> pids = GatewayProcess.pids(nodes);
    AtomicInteger sent = new AtomicInteger();
    AtomicInteger turn = new AtomicInteger();
    ExecutorService senders = Executors.newFixedThreadPool(6);
    List<Future<?>> sending = new ArrayList<>();
    for (int t = 0; t < 6; t++) {
      sending.add(senders.submit(() -> {
        while (sent.getAndIncrement() < TRIGGERS) {
          List<GatewayProcess> live = nodes.stream().filter(GatewayProcess::isAlive).toList();
          ledger.trigger(live.get(Math.floorMod(turn.getAndIncrement(), live.size())), d.id(), d.apiKey());
        }
      }));
    }
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> ledger.entries().size() >= KILL_AFTER);
    // Kill it while it holds runs: wait (briefly) until one of the in-flight probe calls comes from its process.
    Map<Long, ProbeServer.Call> victimCalls = new HashMap<>();
    long mapped = 0;
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    long scanNanos = 0;
    while (victimCalls.isEmpty() && System.nanoTime() < until) {
      scanNanos = System.nanoTime();
      List<ProbeServer.Call> inFlight = probes.inFlight();
      Map<Long, Long> callers = probes.callerPids(inFlight, pids.values());
      mapped = callers.values().stream().filter(pid -> pid > 0).count();
      inFlight.stream().filter(c -> callers.get(c.seq) == victim.pid() && !c.answered())
          .forEach(c -> victimCalls.put(c.seq, c));
      if (victimCalls.isEmpty()) {
        Thread.sleep(10);
      }
    }
    Instant killedAt = Instant.now();
    long killedAtNanos = System.nanoTime();
    scanNanos = killedAtNanos - scanNanos;
    ledger.mark(victim.nodeId() + " killed");
    victim.kill9();
    // Runs whose probe call was still unanswered when the node died cannot have been completed by it.
    Set<String> heldByVictim = victimCalls.values().stream()
        .filter(c -> c.answeredAtNanos() == 0 || c.answeredAtNanos() > killedAtNanos)
        .map(c -> c.probe).collect(Collectors.toSet());
    for (Future<?> f : sending) {
      f.get(60, TimeUnit.SECONDS);
    }
    senders.shutdown();

    int notTerminal = ledger.drain(liveClients(nodes), Duration.ofSeconds(60));
    List<GatewayProcess> survivors = nodes.stream().filter(GatewayProcess::isAlive).toList();
    ledger.verifyTerminalStatesUnchanged(survivors.stream().map(GatewayProcess::http).toList());
    ledger.verifyHistory(backing.pgUrl(), Duration.ofSeconds(15));
    Ledger.Report report = ledger.report(probes);
    Instant lastHeld = ledger.acceptedRuns().values().stream()
        .filter(e -> heldByVictim.contains(e.probe()) && ledger.terminal(e.runId()) != null)
        .map(e -> Instant.parse(ledger.terminal(e.runId()).getString("finished_at")))
        .max(Instant::compareTo).orElse(killedAt);
    System.out.printf("crash: killed %s holding %d in-flight runs %s (of %d in-flight calls seen from it, %d mapped to"
            + " a node, in %d ms); their last finished %d ms after the kill (claim idle %d ms); not terminal after drain: %d%n",
        victim.nodeId(), heldByVictim.size(), heldByVictim, victimCalls.size(), mapped, scanNanos / 1_000_000,
        Duration.between(killedAt, lastHeld).toMillis(), GatewayProcess.CLAIM_IDLE.toMillis(), notTerminal);

    report.assertNoLossAndOneTerminalStatePerRun();
    assertThat(report.accepted()).as(report.line() + outputs(nodes, 30)).isGreaterThanOrEqualTo(TRIGGERS - 10);
    assertThat(report.terminalStatuses()).as(report.line()).containsOnlyKeys("completed");
    if (mapped > 0) {
      assertThat(heldByVictim).as("the killed node was executing runs when it died (so some were taken over)")
          .isNotEmpty();
    }
    for (String probe : heldByVictim) {
      assertThat(probes.count(probe)).as("probe %s of a run the killed node held was executed again", probe)
          .isGreaterThanOrEqualTo(2);
    }
  }

  @Test
  @Order(2)
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void a_sync_caller_whose_node_dies_mid_wait_gets_the_same_run_by_retrying_its_idempotency_key_elsewhere()
      throws Exception {
    Deployment d = deploy(nodes.get(0).http(), probeFlow("crash-sync", probes.url(), 0), sync("api"));
    Ledger ledger = new Ledger("q10");
    GatewayProcess victim = victim();
    GatewayProcess survivor = nodes.get(0);
    int callers = 4;
    ExecutorService waiting = Executors.newFixedThreadPool(callers);
    List<Future<Ledger.Entry>> first = new ArrayList<>();
    for (int i = 0; i < callers; i++) {
      first.add(waiting.submit(() -> ledger.trigger(victim, d.id(), d.apiKey())));
    }
    // Every run has started (its probe call is held 3 s by the probe server) when the callers' node dies.
    awaitOrExplain("the sync runs' probe calls", Duration.ofSeconds(20),
        () -> probes.calls().stream().filter(c -> c.probe.startsWith("q10-")).count() >= callers,
        () -> "probe calls " + probes.calls().stream().filter(c -> c.probe.startsWith("q10-")).toList()
            + ", callers done: " + first.stream().filter(Future::isDone).count() + outputs(nodes, 60));
    victim.kill9();
    List<String> keys = new ArrayList<>();
    for (Future<Ledger.Entry> f : first) {
      Ledger.Entry e = f.get(30, TimeUnit.SECONDS);
      assertThat(e.status()).as("the caller of a killed node gets no answer: %s", e).isEqualTo(-1);
      keys.add(e.probe());
    }
    waiting.shutdown();

    for (String key : keys) {
      Ledger.Entry retry = ledger.trigger(survivor.nodeId(), survivor.http(), d.id(), d.apiKey(), key,
          Ledger.body(key), "Idempotency-Key", key);
      assertThat(retry.status()).as("retry of %s: %s", key, retry).isIn(200, 202);
      Reply run = poll(survivor.http(), retry.runId(), d.apiKey(), "?wait=30");
      assertThat(run.status()).as(run.toString()).isEqualTo(200);
      assertThat(run.data().getString("status")).as(run.toString()).isEqualTo("completed");
      assertThat(run.data().getJsonObject("output_data").getString("probe")).isEqualTo(key);
    }
    Map<String, List<String>> history = Ledger.historyRows(backing.pgUrl(), Set.of(d.id()), Duration.ofSeconds(5),
        rows -> rows.size() >= callers);
    System.out.printf("q10: %d sync callers lost their node; retries found %d runs; executions per key %s%n",
        callers, history.size(), keys.stream().collect(Collectors.toMap(k -> k, probes::count)));
    assertThat(history).as("one run per key, none made by the retries").hasSize(callers);
    ledger.drain(liveClients(nodes), Duration.ofSeconds(30));
    ledger.report(probes).assertNoLossAndOneTerminalStatePerRun();
  }
}
