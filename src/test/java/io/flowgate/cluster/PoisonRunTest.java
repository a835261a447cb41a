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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * RELIABILITY Q8 with real processes: a run whose every execution takes its worker node down ({@code kill -9} of
 * whichever node calls the poison probe) ends {@code failed} once it has done so {@code max_deliveries} times (2
 * here), and is not executed again; healthy runs before and after it complete.
 */
class PoisonRunTest {
  private static final int MAX_DELIVERIES = 2;
  private static final String POISON = "runs-poison";

  private ProbeServer probes;
  private List<GatewayProcess> nodes = List.of();

  @AfterEach
  void stop() {
    GatewayProcess.closeAll(nodes);
    if (probes != null) {
      probes.close();
    }
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void a_run_that_kills_its_worker_max_deliveries_times_ends_failed_and_healthy_runs_complete() {
    GatewayUnderTest.Backing backing = GatewayUnderTest.Backing.fresh(PoisonRunTest.class);
    // The poison probe never answers in time: its caller is killed while it waits.
    probes = ProbeServer.start(p -> p.equals(POISON) ? Duration.ofSeconds(60) : Duration.ofMillis(300));
    nodes = GatewayProcess.startAll(backing, Map.of("FLOWGATE_RUNS_MAX_DELIVERIES", Integer.toString(MAX_DELIVERIES)),
        "poison-a", "poison-b", "poison-c");
    Deployment d = deploy(nodes.get(0).http(), probeFlow("poison", probes.url(), 0), async("api"));
    Ledger ledger = new Ledger("runs");
    for (int i = 0; i < 10; i++) {
      Ledger.Entry e = ledger.trigger(nodes.get(i % nodes.size()), d.id(), d.apiKey());
      assertThat(e.status()).as(e.toString()).isEqualTo(202);
    }
    // Healthy runs finish before the poison one starts killing nodes: one held by both killed nodes would have
    // "taken down its worker" twice too, and be failed as rightly.
    assertThat(ledger.drain(liveClients(nodes), Duration.ofSeconds(20))).isZero();
    Ledger.Entry accepted = ledger.trigger(nodes.get(0).nodeId(), nodes.get(0).http(), d.id(), d.apiKey(), POISON,
        Ledger.body(POISON));
    assertThat(accepted.status()).as(accepted.toString()).isEqualTo(202);
    String poisonRun = accepted.runId();

    List<String> killed = new ArrayList<>();
    for (int delivery = 1; delivery <= MAX_DELIVERIES; delivery++) {
      int n = delivery;
      Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20))
          .until(() -> probes.count(POISON) >= n);
      ProbeServer.Call call = probes.calls().stream().filter(c -> c.probe.equals(POISON) && c.execution == n)
          .findFirst().orElseThrow();
      long pid = probes.callerPid(call, GatewayProcess.pids(nodes).values());
      GatewayProcess worker = nodes.stream().filter(g -> g.pid() == pid).findFirst()
          .orElseThrow(() -> new AssertionError("cannot tell which node executes the poison run (delivery " + n
              + ")"));
      worker.kill9();
      killed.add(worker.nodeId());
    }
    GatewayProcess survivor = nodes.stream().filter(GatewayProcess::isAlive).findFirst().orElseThrow();
    Reply end = poll(survivor.http(), poisonRun, d.apiKey(), "?wait=20");
    System.out.printf("poison: killed %s; the run ended %s after %d executions%n", killed,
        end.data().getString("status"), probes.count(POISON));
    assertThat(end.data().getString("status")).as("%s%s", end, outputs(nodes, 40)).isEqualTo("failed");
    assertThat(probes.count(POISON)).as("executions of the poison run").isEqualTo(MAX_DELIVERIES);

    // The survivor serves healthy runs as before.
    for (int i = 0; i < 5; i++) {
      Ledger.Entry e = ledger.trigger(survivor, d.id(), d.apiKey());
      assertThat(e.status()).as(e.toString()).isEqualTo(202);
    }
    ledger.drain(liveClients(nodes), Duration.ofSeconds(30));
    ledger.verifyTerminalStatesUnchanged(List.of(survivor.http()));
    ledger.verifyHistory(backing.pgUrl(), Duration.ofSeconds(15));
    Ledger.Report report = ledger.report(probes).assertNoLossAndOneTerminalStatePerRun();
    assertThat(report.terminalStatuses()).as("the healthy runs complete, the poison one fails: " + report.line())
        .isEqualTo(Map.of("completed", 15, "failed", 1));
    Reply still = poll(survivor.http(), poisonRun, d.apiKey(), null);
    assertThat(still.data().getString("status")).isEqualTo("failed");
    assertThat(probes.count(POISON)).as("not executed again later").isEqualTo(MAX_DELIVERIES);
  }
}
