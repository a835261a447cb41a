package io.flowgate.cluster;

import static io.flowgate.cluster.ClusterFixtures.ADMIN;
import static io.flowgate.cluster.ClusterFixtures.assertProblem;
import static io.flowgate.cluster.ClusterFixtures.async;
import static io.flowgate.cluster.ClusterFixtures.cancel;
import static io.flowgate.cluster.ClusterFixtures.delayFlow;
import static io.flowgate.cluster.ClusterFixtures.deploy;
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
import io.flowgate.testsupport.TestHttp;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Poll, long-poll, cancel and {@code Prefer} across two gateway processes (DESIGN §1.3): a long-poll on one node wakes
 * when the run completes on whichever node ran it; a run cancelled through the other node ends {@code cancelled}
 * within about a second and its remaining work never happens; cancelling a finished run returns it unchanged; a run
 * past its deployment's timeout ends {@code timed_out}; keys, run ids and {@code ?wait} are checked as in §1.6.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LongPollAndCancelTest {
  private static final long CANCEL_DELAY_MS = 10_000;
  private static final String QUEUED_MESSAGE = "Flow execution started. Use the flow_run_id to check status.";

  private ProbeServer probes;
  private List<GatewayProcess> nodes;
  private GatewayProcess a;
  private GatewayProcess b;
  private Deployment oneSecond;
  private Deployment fourSeconds;
  private Deployment cancelServer;
  private Deployment cancelApi;
  private Deployment timesOut;
  private Deployment syncThreeSeconds;

  @BeforeAll
  void start() {
    GatewayUnderTest.Backing backing = GatewayUnderTest.Backing.fresh(LongPollAndCancelTest.class);
    probes = ProbeServer.start(Duration.ZERO);
    nodes = GatewayProcess.startAll(backing, Map.of(), "poll-a", "poll-b");
    a = nodes.get(0);
    b = nodes.get(1);
    TestHttp http = a.http();
    oneSecond = deploy(http, delayFlow("one-second", 1000), async("api"));
    fourSeconds = deploy(http, delayFlow("four-seconds", 4000), async("api"));
    cancelServer = deploy(http, probeFlow("cancel-server", probes.url(), CANCEL_DELAY_MS), async("server"));
    cancelApi = deploy(http, probeFlow("cancel-api", probes.url(), CANCEL_DELAY_MS), async("api"));
    timesOut = deploy(http, delayFlow("times-out", 5000), async("api").put("timeout_seconds", 1));
    syncThreeSeconds = deploy(http, delayFlow("sync-three-seconds", 3000), sync("api"));
  }

  @AfterAll
  void stop() {
    GatewayProcess.closeAll(nodes);
    if (probes != null) {
      probes.close();
    }
  }

  private static String runId(Reply accepted) {
    assertThat(accepted.status()).as(accepted.toString()).isEqualTo(202);
    return accepted.data().getString("flow_run_id");
  }

  private static long millisSince(long startNanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  void an_async_trigger_answers_202_with_location_and_a_long_poll_on_the_other_node_wakes_when_the_run_completes() {
    Reply accepted = a.http().trigger(oneSecond.id(), oneSecond.apiKey(), Ledger.body("lp-1"));
    assertThat(accepted.status()).as(accepted.toString()).isEqualTo(202);
    String id = accepted.data().getString("flow_run_id");
    assertThat(accepted.header("Location")).isEqualTo("/node/flow-runs/" + id + "/");
    assertThat(accepted.data().getString("status")).isEqualTo("queued");
    assertThat(accepted.data().getString("message")).isEqualTo(QUEUED_MESSAGE);
    assertThat(accepted.data().getString("poll_url")).isEqualTo("/node/flow-runs/" + id + "/");

    long polled = System.nanoTime();
    Reply done = poll(b.http(), id, oneSecond.apiKey(), "?wait=10");
    long waited = millisSince(polled);
    assertThat(done.status()).as(done.toString()).isEqualTo(200);
    assertThat(done.data().getString("status")).as(done.toString()).isEqualTo("completed");
    assertThat(done.data().getJsonObject("output_data")).isEqualTo(new JsonObject().put("probe", "lp-1"));
    assertThat(waited).as("the long-poll answered when the 1 s run completed, not after its 10 s").isLessThan(5_000);
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  void a_long_poll_of_an_unfinished_run_answers_with_its_current_status_after_the_wait() {
    String id = runId(a.http().trigger(fourSeconds.id(), fourSeconds.apiKey(), Ledger.body("lp-2")));
    long polled = System.nanoTime();
    Reply r = poll(b.http(), id, fourSeconds.apiKey(), "?wait=1");
    long waited = millisSince(polled);
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    assertThat(r.data().getString("status")).isIn("queued", "running");
    assertThat(waited).as("held about the 1 s asked for").isBetween(800L, 3_000L);
    Reply done = poll(a.http(), id, fourSeconds.apiKey(), "?wait=10");
    assertThat(done.data().getString("status")).as(done.toString()).isEqualTo("completed");
  }

  @Test
  @Timeout(value = 40, unit = TimeUnit.SECONDS)
  void a_running_delay_cancelled_through_the_other_node_ends_cancelled_within_about_a_second_and_never_calls_on() {
    // server type: it runs in-process on node a; api type: on whichever node's worker took it. Both are cancelled
    // through node b.
    Map<Deployment, String> probeOf = Map.of(cancelServer, "cancel-server-1", cancelApi, "cancel-api-1");
    long triggered = System.nanoTime();
    Map<Deployment, String> runs = new HashMap<>();
    probeOf.forEach((d, probe) -> runs.put(d, runId(a.http().trigger(d.id(), d.apiKey(), Ledger.body(probe)))));
    runs.forEach((d, id) -> Awaitility.await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100))
        .until(() -> "running".equals(poll(a.http(), id, d.apiKey(), null).data().getString("status"))));

    for (Map.Entry<Deployment, String> run : runs.entrySet()) {
      Deployment d = run.getKey();
      long cancelled = System.nanoTime();
      Reply c = cancel(b.http(), run.getValue(), d.apiKey());
      assertThat(c.status()).as(c.toString()).isEqualTo(202);
      assertThat(c.data().getString("flow_run_id")).isEqualTo(run.getValue());
      assertThat(c.data().getString("status")).as(c.toString()).isIn("running", "cancelled");
      Reply end = poll(a.http(), run.getValue(), d.apiKey(), "?wait=5");
      assertThat(end.data().getString("status")).as(end + outputs(nodes, 30)).isEqualTo("cancelled");
      assertThat(end.data().getString("finished_at")).isNotNull();
      assertThat(millisSince(cancelled)).as("cancelled within about a second").isLessThan(2_500);
      Reply again = cancel(a.http(), run.getValue(), d.apiKey());
      assertThat(again.status()).as(again.toString()).isEqualTo(202);
      assertThat(again.data().getString("status")).isEqualTo("cancelled");
      assertThat(again.data().getString("finished_at")).isEqualTo(end.data().getString("finished_at"));
    }
    // The probe call after the delay would have come 10 s after the trigger: it never does.
    long until = triggered + TimeUnit.MILLISECONDS.toNanos(CANCEL_DELAY_MS + 1_500);
    Awaitility.await().during(Duration.ofNanos(Math.max(1, until - System.nanoTime())))
        .atMost(Duration.ofMillis(CANCEL_DELAY_MS + 5_000)).pollInterval(Duration.ofMillis(200))
        .until(() -> probes.count("cancel-server-1") + probes.count("cancel-api-1") == 0);
    runs.forEach((d, id) -> assertThat(poll(b.http(), id, d.apiKey(), null).data().getString("status"))
        .isEqualTo("cancelled"));
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  void cancelling_a_finished_run_returns_it_unchanged() {
    String id = runId(a.http().trigger(oneSecond.id(), oneSecond.apiKey(), Ledger.body("done-1")));
    Reply done = poll(a.http(), id, oneSecond.apiKey(), "?wait=10");
    assertThat(done.data().getString("status")).as(done.toString()).isEqualTo("completed");
    Reply c = cancel(b.http(), id, oneSecond.apiKey());
    assertThat(c.status()).as(c.toString()).isEqualTo(202);
    for (String field : List.of("flow_run_id", "status", "finished_at", "output_data")) {
      assertThat(c.data().getValue(field)).as(field).isEqualTo(done.data().getValue(field));
    }
    Reply after = poll(b.http(), id, oneSecond.apiKey(), null);
    assertThat(after.data().getString("status")).isEqualTo("completed");
    assertThat(after.data().getString("finished_at")).isEqualTo(done.data().getString("finished_at"));
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  void an_async_run_past_its_deployment_timeout_ends_timed_out() {
    long sent = System.nanoTime();
    String id = runId(b.http().trigger(timesOut.id(), timesOut.apiKey(), Ledger.body("slow-1")));
    Reply end = poll(a.http(), id, timesOut.apiKey(), "?wait=10");
    assertThat(end.data().getString("status")).as(end.toString()).isEqualTo("timed_out");
    assertThat(millisSince(sent)).as("ended soon after its 1 s timeout, not after its 5 s delay").isLessThan(4_000);
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void poll_and_cancel_refuse_missing_unknown_inactive_and_foreign_keys_as_the_error_table_says() {
    String id = runId(a.http().trigger(fourSeconds.id(), fourSeconds.apiKey(), Ledger.body("auth-1")));
    TestHttp admin = a.http();
    Reply inactive = admin.admin("POST", "/api/v1/deployments/" + fourSeconds.id() + "/api-keys",
        new JsonObject().put("name", "inactive"), ADMIN);
    assertThat(inactive.status()).as(inactive.toString()).isEqualTo(201);
    assertThat(admin.admin("POST", "/api/v1/api-keys/" + inactive.data().getString("api_key_id") + "/deactivate",
        null, ADMIN).status()).isEqualTo(200);
    Reply deleted = admin.admin("POST", "/api/v1/deployments/" + fourSeconds.id() + "/api-keys",
        new JsonObject().put("name", "deleted"), ADMIN);
    assertThat(admin.admin("DELETE", "/api/v1/api-keys/" + deleted.data().getString("api_key_id"), null, ADMIN)
        .status()).isEqualTo(204);
    Reply profile = admin.admin("POST", "/api/v1/profiles", new JsonObject().put("name", "other-" + UUID.randomUUID()),
        ADMIN);
    assertThat(profile.status()).as(profile.toString()).isEqualTo(201);
    Reply foreign = admin.admin("POST", "/api/v1/api-keys", new JsonObject().put("name", "foreign"),
        profile.data().getString("token"));
    assertThat(foreign.status()).as(foreign.toString()).isEqualTo(201);

    Map<String, BiFunction<TestHttp, String, Reply>> calls = Map.of(
        "poll", (http, key) -> key == null ? http.send("GET", "/node/flow-runs/" + id + "/", null)
            : poll(http, id, key, null),
        "cancel", (http, key) -> key == null ? http.send("POST", "/node/flow-runs/" + id + "/cancel", null)
            : cancel(http, id, key));
    for (GatewayProcess node : nodes) {
      TestHttp http = node.http();
      calls.forEach((what, call) -> {
        assertProblem(call.apply(http, null), 401, "missing_api_key");
        assertProblem(call.apply(http, "sk-not-a-real-key"), 401, "invalid_api_key");
        assertProblem(call.apply(http, deleted.data().getString("api_key")), 401, "invalid_api_key");
        assertProblem(call.apply(http, foreign.data().getString("api_key")), 404, "flow_run_not_found");
        assertProblem(call.apply(http, oneSecond.apiKey()), 404, "flow_run_not_found");
      });
      // The deactivation reaches every node's key cache within a second or so.
      Awaitility.await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(100))
          .until(() -> poll(http, id, inactive.data().getString("api_key"), null).status() == 401);
      calls.forEach((what, call) ->
          assertProblem(call.apply(http, inactive.data().getString("api_key")), 401, "api_key_inactive"));
    }
    Reply end = poll(b.http(), id, fourSeconds.apiKey(), "?wait=10");
    assertThat(end.data().getString("status")).as("refused cancels left the run alone: %s", end)
        .isEqualTo("completed");
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  void malformed_and_unknown_run_ids_are_404_flow_run_not_found() {
    for (String bad : List.of("not-a-uuid", UUID.randomUUID().toString(), "00000000-0000-0000-0000-00000000000g")) {
      for (GatewayProcess node : nodes) {
        assertProblem(poll(node.http(), bad, oneSecond.apiKey(), null), 404, "flow_run_not_found");
        assertProblem(poll(node.http(), bad, oneSecond.apiKey(), "?wait=1"), 404, "flow_run_not_found");
        assertProblem(cancel(node.http(), bad, oneSecond.apiKey()), 404, "flow_run_not_found");
      }
    }
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  void a_wait_out_of_range_or_not_an_integer_is_400_invalid_request_and_0_to_60_are_accepted() {
    String id = runId(a.http().trigger(oneSecond.id(), oneSecond.apiKey(), Ledger.body("wait-1")));
    for (String wait : List.of("61", "abc", "-1", "1.5", "99999999999999999999")) {
      assertProblem(poll(b.http(), id, oneSecond.apiKey(), "?wait=" + wait), 400, "invalid_request");
    }
    assertThat(poll(b.http(), id, oneSecond.apiKey(), "?wait=0").status()).isEqualTo(200);
    Reply done = poll(b.http(), id, oneSecond.apiKey(), "?wait=60");
    assertThat(done.data().getString("status")).as(done.toString()).isEqualTo("completed");
    long polled = System.nanoTime();
    assertThat(poll(a.http(), id, oneSecond.apiKey(), "?wait=60").status()).isEqualTo(200);
    assertThat(millisSince(polled)).as("a finished run is answered at once, whatever the wait").isLessThan(1_000);
  }

  @Test
  @Timeout(value = 40, unit = TimeUnit.SECONDS)
  void prefer_wait_holds_a_sync_trigger_at_most_n_seconds_then_202_and_the_run_goes_on() {
    long sent = System.nanoTime();
    Reply held = a.http().trigger(syncThreeSeconds.id(), syncThreeSeconds.apiKey(), Ledger.body("prefer-1"),
        "Prefer", "wait=1");
    long heldMs = millisSince(sent);
    String id = runId(held);
    assertThat(held.header("Location")).isEqualTo("/node/flow-runs/" + id + "/");
    assertThat(heldMs).as("held about 1 s, not the run's 3 s").isBetween(800L, 2_900L);

    sent = System.nanoTime();
    Reply async = b.http().trigger(syncThreeSeconds.id(), syncThreeSeconds.apiKey(), Ledger.body("prefer-2"),
        "Prefer", "respond-async");
    String asyncId = runId(async);
    assertThat(async.header("Location")).isEqualTo("/node/flow-runs/" + asyncId + "/");
    assertThat(millisSince(sent)).as("respond-async answers at once, not after the run's 3 s").isLessThan(2_500);

    Reply ignored = a.http().trigger(syncThreeSeconds.id(), syncThreeSeconds.apiKey(), Ledger.body("prefer-3"),
        "Prefer", "handling=lenient");
    assertThat(ignored.status()).as("an unknown preference is ignored: %s", ignored).isEqualTo(200);
    assertThat(ignored.data().getString("status")).isEqualTo("completed");

    for (String run : List.of(id, asyncId)) {
      Reply end = poll(b.http(), run, syncThreeSeconds.apiKey(), "?wait=10");
      assertThat(end.data().getString("status")).as(end.toString()).isEqualTo("completed");
    }
  }
}
