package io.flowgate.cluster;

import static io.flowgate.cluster.ClusterFixtures.assertProblem;
import static io.flowgate.cluster.ClusterFixtures.async;
import static io.flowgate.cluster.ClusterFixtures.deploy;
import static io.flowgate.cluster.ClusterFixtures.liveClients;
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
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.assertj.core.api.Assertions;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * RELIABILITY Q7 (and the first pass of Q10) across two gateway processes: concurrent sends of one
 * {@code Idempotency-Key} through both nodes make one run, and every reply names it; after it has finished a resend
 * replays it without a new run; the same key with another body is 422 {@code idempotency_key_reused} on either
 * node; a sync caller that gave up gets the same run by retrying its key on the other node.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IdempotencyAcrossNodesTest {
  private static final int KEYS = 20;
  private static final int SENDS_PER_KEY = 4;

  private GatewayUnderTest.Backing backing;
  private ProbeServer probes;
  private List<GatewayProcess> nodes;

  @BeforeAll
  void start() {
    backing = GatewayUnderTest.Backing.fresh(IdempotencyAcrossNodesTest.class);
    probes = ProbeServer.start(p -> p.startsWith("gaveup-") ? Duration.ofSeconds(2) : Duration.ofMillis(300));
    nodes = GatewayProcess.startAll(backing, Map.of(), "idem-a", "idem-b");
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
  void concurrent_sends_of_one_key_through_both_nodes_make_one_run_and_a_resend_after_it_finished_replays_it()
      throws Exception {
    Deployment d = deploy(nodes.get(0).http(), probeFlow("idem", probes.url(), 0), async("api"));
    Ledger ledger = new Ledger("idem");
    Map<String, String> keyOfProbe = new HashMap<>();
    for (int k = 0; k < KEYS; k++) {
      keyOfProbe.put(ledger.nextProbe(), "key-" + UUID.randomUUID());
    }
    ExecutorService pool = Executors.newFixedThreadPool(KEYS * SENDS_PER_KEY);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<Ledger.Entry>> sends = new ArrayList<>();
    for (Map.Entry<String, String> k : keyOfProbe.entrySet()) {
      for (int s = 0; s < SENDS_PER_KEY; s++) {
        GatewayProcess node = nodes.get(s % nodes.size());
        sends.add(pool.submit(() -> {
          go.await();
          return ledger.trigger(node.nodeId(), node.http(), d.id(), d.apiKey(), k.getKey(), Ledger.body(k.getKey()),
              "Idempotency-Key", k.getValue());
        }));
      }
    }
    go.countDown();
    for (Future<Ledger.Entry> f : sends) {
      f.get(60, TimeUnit.SECONDS);
    }
    pool.shutdown();

    Map<String, List<Ledger.Entry>> byProbe = ledger.entries().stream()
        .collect(Collectors.groupingBy(Ledger.Entry::probe));
    for (Map.Entry<String, List<Ledger.Entry>> k : byProbe.entrySet()) {
      List<Ledger.Entry> replies = k.getValue();
      // Every send is accepted into the one run, or (an overloaded node) refused with a retryable 503 that a client
      // retries with the same key; never a second run.
      assertThat(replies).as("replies for key of %s", k.getKey()).hasSize(SENDS_PER_KEY)
          .allSatisfy(e -> assertThat(e.status()).as(e.toString()).isIn(202, 503))
          .anySatisfy(e -> assertThat(e.status()).isEqualTo(202));
      List<Ledger.Entry> accepted = replies.stream().filter(e -> e.status() == 202).toList();
      assertThat(replies.stream().filter(e -> e.status() == 503))
          .allSatisfy(e -> assertThat(e.code()).isEqualTo("service_unavailable"));
      Set<String> runIds = accepted.stream().map(Ledger.Entry::runId).collect(Collectors.toSet());
      assertThat(runIds).as("one run for the %d concurrent sends of key %s: %s", SENDS_PER_KEY,
          keyOfProbe.get(k.getKey()), replies).hasSize(1);
      assertThat(accepted).allSatisfy(e -> assertThat(e.location()).isEqualTo("/node/flow-runs/" + e.runId() + "/"));
    }

    int notTerminal = ledger.drain(liveClients(nodes), Duration.ofSeconds(30));
    ledger.verifyTerminalStatesUnchanged(nodes.stream().map(GatewayProcess::http).toList());
    ledger.verifyHistory(backing.pgUrl(), Duration.ofSeconds(15));
    Map<String, List<String>> history = Ledger.historyRows(backing.pgUrl(), Set.of(d.id()), Duration.ZERO,
        rows -> true);
    assertThat(history).as("runs made by %d keys x %d sends", KEYS, SENDS_PER_KEY).hasSize(KEYS);
    Map<String, Integer> executionsBefore = idemCounts();

    // After completion a resend, through either node, replays the run: same id, no new run, no new execution.
    for (Map.Entry<String, String> k : keyOfProbe.entrySet()) {
      String runId = byProbe.get(k.getKey()).get(0).runId();
      for (GatewayProcess node : nodes) {
        Reply again = node.http().trigger(d.id(), d.apiKey(), Ledger.body(k.getKey()), "Idempotency-Key",
            k.getValue());
        assertThat(again.status()).as("resend of a finished run's key: %s", again).isIn(200, 202);
        assertThat(again.data().getString("flow_run_id")).as(again.toString()).isEqualTo(runId);
      }
    }
    assertThat(Ledger.historyRows(backing.pgUrl(), Set.of(d.id()), Duration.ZERO, rows -> true))
        .as("runs after the resends").hasSize(KEYS);
    assertThat(idemCounts()).as("no execution caused by a replay").isEqualTo(executionsBefore);

    Ledger.Report report = ledger.report(probes);
    assertThat(notTerminal).isZero();
    report.assertNoLossAndOneTerminalStatePerRun();
    assertThat(report.accepted()).as(report.line()).isEqualTo(KEYS);
    assertThat(report.terminalStatuses()).as(report.line()).containsOnlyKeys("completed");
  }

  private Map<String, Integer> idemCounts() {
    Map<String, Integer> counts = new HashMap<>(probes.counts());
    counts.keySet().removeIf(p -> !p.startsWith("idem-"));
    return counts;
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  void the_same_key_with_another_body_is_422_idempotency_key_reused_on_either_node() {
    Deployment d = deploy(nodes.get(0).http(), probeFlow("reuse", probes.url(), 0), async("api"));
    String key = "key-" + UUID.randomUUID();
    Reply first = nodes.get(0).http().trigger(d.id(), d.apiKey(), Ledger.body("reuse-1"), "Idempotency-Key", key);
    assertThat(first.status()).as(first.toString()).isEqualTo(202);
    for (GatewayProcess node : nodes) {
      assertProblem(node.http().trigger(d.id(), d.apiKey(), Ledger.body("reuse-2"), "Idempotency-Key", key), 422,
          "idempotency_key_reused");
    }
    Reply run = poll(nodes.get(1).http(), first.data().getString("flow_run_id"), d.apiKey(), "?wait=20");
    assertThat(run.data().getString("status")).as(run.toString()).isEqualTo("completed");
    assertProblem(nodes.get(1).http().trigger(d.id(), d.apiKey(), Ledger.body("reuse-3"), "Idempotency-Key", key),
        422, "idempotency_key_reused");
    assertThat(probes.count("reuse-2") + probes.count("reuse-3")).as("refused bodies never ran").isZero();
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  void an_empty_or_overlong_idempotency_key_is_400_invalid_request_and_255_characters_are_accepted() {
    Deployment d = deploy(nodes.get(0).http(), probeFlow("keylen", probes.url(), 0), async("api"));
    GatewayProcess node = nodes.get(1);
    assertProblem(node.http().trigger(d.id(), d.apiKey(), Ledger.body("keylen-1"), "Idempotency-Key", ""), 400,
        "invalid_request");
    assertProblem(node.http().trigger(d.id(), d.apiKey(), Ledger.body("keylen-2"), "Idempotency-Key",
        "k".repeat(256)), 400, "invalid_request");
    Reply ok = node.http().trigger(d.id(), d.apiKey(), Ledger.body("keylen-3"), "Idempotency-Key",
        UUID.randomUUID() + "k".repeat(255 - 36));
    assertThat(ok.status()).as(ok.toString()).isEqualTo(202);
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> probes.count("keylen-3") == 1);
    assertThat(probes.count("keylen-1") + probes.count("keylen-2")).as("refused triggers never ran").isZero();
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void a_sync_caller_that_gave_up_gets_the_same_run_by_retrying_its_key_on_the_other_node() throws Exception {
    Deployment d = deploy(nodes.get(0).http(), probeFlow("gaveup", probes.url(), 0), sync("api"));
    HttpClient impatient = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    Ledger ledger = new Ledger("gaveup");
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      String probe = ledger.nextProbe();
      keys.add(probe);
      HttpRequest request = HttpRequest.newBuilder(URI.create(nodes.get(0).baseUrl() + "/node/deployment-trigger/"
              + d.id() + "/"))
          .timeout(Duration.ofMillis(500))
          .header("X-API-Key", d.apiKey()).header("Content-Type", "application/json")
          .header("Idempotency-Key", probe)
          .POST(HttpRequest.BodyPublishers.ofString(Ledger.body(probe))).build();
      Assertions.assertThatThrownBy(() -> impatient.send(request, HttpResponse.BodyHandlers.ofString()))
          .as("the caller gives up before the 2 s run is done").isInstanceOf(HttpTimeoutException.class);
    }
    GatewayProcess other = nodes.get(1);
    for (String key : keys) {
      Ledger.Entry retry = ledger.trigger(other.nodeId(), other.http(), d.id(), d.apiKey(), key, Ledger.body(key),
          "Idempotency-Key", key);
      assertThat(retry.status()).as("the retry waits for the run and gets its result: %s", retry).isEqualTo(200);
      Reply run = poll(other.http(), retry.runId(), d.apiKey(), null);
      assertThat(run.data().getJsonObject("output_data").getInteger("execution")).as(run.toString()).isEqualTo(1);
    }
    assertThat(Ledger.historyRows(backing.pgUrl(), Set.of(d.id()), Duration.ofSeconds(5), rows -> rows.size()
        >= keys.size())).as("one run per key, none made by the retries").hasSize(keys.size());
    ledger.drain(liveClients(nodes), Duration.ofSeconds(10));
    ledger.report(probes).assertNoLossAndOneTerminalStatePerRun();
  }
}
