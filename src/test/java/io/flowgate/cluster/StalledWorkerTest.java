package io.flowgate.cluster;

import static io.flowgate.cluster.ClusterFixtures.async;
import static io.flowgate.cluster.ClusterFixtures.deploy;
import static io.flowgate.cluster.ClusterFixtures.liveClients;
import static io.flowgate.cluster.ClusterFixtures.outputs;
import static io.flowgate.cluster.ClusterFixtures.poll;
import static io.flowgate.cluster.ClusterFixtures.probeFlow;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.cluster.ClusterFixtures.Deployment;
import io.flowgate.testsupport.GatewayProcess;
import io.flowgate.testsupport.GatewayUnderTest;
import io.flowgate.testsupport.Ledger;
import io.flowgate.testsupport.ProbeServer;
import io.flowgate.testsupport.TestHttp.Reply;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * RELIABILITY Q2 and Q11 with real processes. Q2: a node frozen with {@code kill -STOP} (a GC-pause stand-in) for
 * three claim-idle periods loses its runs to the other node, which finishes them while it is frozen; after
 * {@code kill -CONT} its late completions change nothing (statuses, finish times and outputs stay as first seen, on
 * every node and in PostgreSQL). Q11: a live node running a flow longer than the claim idle time keeps it (its
 * heartbeat), so the flow is executed once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StalledWorkerTest {
  private static final Duration CLAIM_IDLE = GatewayProcess.CLAIM_IDLE;
  private static final Duration LONG_RUN = CLAIM_IDLE.multipliedBy(3);

  private GatewayUnderTest.Backing backing;
  private ProbeServer probes;
  private List<GatewayProcess> nodes;

  @BeforeAll
  void start() {
    backing = GatewayUnderTest.Backing.fresh(StalledWorkerTest.class);
    probes = ProbeServer.start(p -> p.startsWith("long-") ? LONG_RUN : Duration.ofSeconds(1));
    nodes = GatewayProcess.startAll(backing, Map.of(), "stall-a", "stall-b");
  }

  @AfterAll
  void stop() {
    GatewayProcess.closeAll(nodes);
    if (probes != null) {
      probes.close();
    }
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void a_frozen_node_loses_its_runs_to_the_other_and_its_late_completions_change_nothing() {
    GatewayProcess a = nodes.get(0);
    GatewayProcess b = nodes.get(1);
    Deployment d = deploy(a.http(), probeFlow("stall", probes.url(), 0), async("api"));
    Ledger ledger = new Ledger("stall");
    int runs = 20;
    for (int i = 0; i < runs; i++) {
      Ledger.Entry e = ledger.trigger(i % 2 == 0 ? a : b, d.id(), d.apiKey());
      assertThat(e.status()).as("trigger %d: %s%s", i, e, outputs(nodes, 20)).isEqualTo(202);
    }
    // All runs have called the probe, which holds each answer for a second: both nodes are mid-run.
    Awaitility.await().atMost(Duration.ofSeconds(20))
        .until(() -> probes.calls().stream().filter(c -> c.probe.startsWith("stall-")).count() >= runs);
    List<ProbeServer.Call> inFlight = probes.inFlight();
    Map<Long, Long> callers = probes.callerPids(inFlight, List.of(a.pid(), b.pid()));
    long stalledAt = System.nanoTime();
    ledger.mark(b.nodeId() + " frozen");
    b.stopSignal();
    // b's runs whose probe answer had not been sent when it froze: it cannot have finished them.
    Set<String> heldByB = inFlight.stream()
        .filter(c -> callers.get(c.seq) == b.pid() && (c.answeredAtNanos() == 0 || c.answeredAtNanos() > stalledAt))
        .map(c -> c.probe).collect(Collectors.toSet());
    boolean mapped = callers.values().stream().anyMatch(pid -> pid > 0);

    // While b is frozen, a takes its runs over (after the claim idle time) and finishes every run.
    long frozenUntil = stalledAt + CLAIM_IDLE.multipliedBy(3).toNanos();
    int notTerminal = ledger.drain(() -> List.of(a.http()),
        Duration.ofNanos(Math.max(1, frozenUntil - System.nanoTime())));
    long finishedAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stalledAt);
    assertThat(notTerminal).as("runs not finished by %s while %s was frozen for %d ms (held by it: %s)%s",
        a.nodeId(), b.nodeId(), CLAIM_IDLE.multipliedBy(3).toMillis(), heldByB, outputs(nodes, 40)).isZero();
    Awaitility.await().pollDelay(Duration.ZERO).atMost(Duration.ofSeconds(10))
        .until(() -> System.nanoTime() >= frozenUntil);
    ledger.mark(b.nodeId() + " continued");
    b.cont();

    // b wakes with its old runs in hand and tries to finish them: nothing may change, for about two seconds.
    Awaitility.await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(b::isAlive);
    ledger.verifyTerminalStatesUnchanged(List.of(a.http(), b.http()));
    ledger.verifyHistory(backing.pgUrl(), Duration.ofSeconds(15));
    Ledger.Report report = ledger.report(probes);
    System.out.printf("stall: froze %s for %d ms holding %d runs %s; all %d runs terminal %d ms after the freeze;"
            + " executions of its runs %s%n", b.nodeId(), CLAIM_IDLE.multipliedBy(3).toMillis(), heldByB.size(),
        heldByB, runs, finishedAfterMs, heldByB.stream().collect(Collectors.toMap(p -> p, probes::count)));
    report.assertNoLossAndOneTerminalStatePerRun();
    assertThat(report.terminalStatuses()).as(report.line()).containsOnlyKeys("completed");
    if (mapped) {
      assertThat(heldByB).as("the frozen node held runs (so some were taken over)").isNotEmpty();
    }
    for (String probe : heldByB) {
      assertThat(probes.count(probe)).as("a run of the frozen node, %s, was executed again by the other", probe)
          .isGreaterThanOrEqualTo(2);
    }
    assertThat(b.isAlive()).as("the frozen node runs on after SIGCONT").isTrue();
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void a_run_longer_than_the_claim_idle_time_on_a_live_node_is_not_taken_over() {
    GatewayProcess a = nodes.get(0);
    Deployment d = deploy(a.http(), probeFlow("long", probes.url(), 0), async("api"));
    Ledger ledger = new Ledger("long");
    int runs = 4;
    for (int i = 0; i < runs; i++) {
      GatewayProcess via = nodes.get(i % nodes.size());
      Ledger.Entry e = ledger.trigger(via, d.id(), d.apiKey());
      assertThat(e.status()).as("trigger %d: %s", i, e).isEqualTo(202);
    }
    int notTerminal = ledger.drain(liveClients(nodes), LONG_RUN.plusSeconds(20));
    assertThat(notTerminal).as("long runs not finished" + outputs(nodes, 30)).isZero();
    ledger.verifyTerminalStatesUnchanged(nodes.stream().map(GatewayProcess::http).toList());
    ledger.verifyHistory(backing.pgUrl(), Duration.ofSeconds(15));
    Ledger.Report report = ledger.report(probes);
    report.assertNoLossAndOneTerminalStatePerRun();
    assertThat(report.terminalStatuses()).as(report.line()).containsOnlyKeys("completed");
    assertThat(report.dupExec()).as("runs %s long (claim idle %s) executed twice: the heartbeat did not hold them; %s",
        LONG_RUN, CLAIM_IDLE, report.line()).isZero();
    for (Ledger.Entry e : ledger.acceptedRuns().values()) {
      Reply run = poll(a.http(), e.runId(), d.apiKey(), null);
      assertThat(run.data().getJsonObject("output_data").getInteger("execution")).as(run.toString()).isEqualTo(1);
    }
  }
}
