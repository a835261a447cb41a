package io.flowgate.trigger;

import static io.flowgate.trigger.TriggerApiTestBase.assertProblem;
import static io.flowgate.trigger.TriggerApiTestBase.flow;
import static io.flowgate.trigger.TriggerApiTestBase.node;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.testsupport.GatewayUnderTest;
import io.flowgate.testsupport.TestHttp;
import io.flowgate.testsupport.TestHttp.Reply;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Async runs, polling, long-polls, cancellation, the sync-to-async handoff and idempotency keys (DESIGN §1.3, §1.5),
 * plus the upkeep that keeps runs from being lost: the reconciler, expired leases and the deadline reaper — with
 * timings compressed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AsyncRunsTest {
  private static final String ADMIN = GatewayUnderTest.ADMIN_TOKEN;

  private GatewayUnderTest gateway;
  private TestHttp http;
  private String flowId;
  private String slowFlowId;
  private TriggerApiTestBase.Deployed asyncApi;
  private TriggerApiTestBase.Deployed asyncServer;
  private TriggerApiTestBase.Deployed slowAsyncApi;
  private TriggerApiTestBase.Deployed slowAsyncServer;
  private TriggerApiTestBase.Deployed slowSyncApi;
  private TriggerApiTestBase.Deployed slowSyncServer;
  private TriggerApiTestBase.Deployed syncServer;

  @BeforeAll
  void start() {
    gateway = GatewayUnderTest.start(GatewayUnderTest.Backing.fresh(getClass()), 2, Map.of(
        "FLOWGATE_RUNS_CLAIM_IDLE_MS", "1000",
        "FLOWGATE_RUNS_HEARTBEAT_MS", "200",
        "FLOWGATE_RUNS_RECONCILE_INTERVAL_MS", "300",
        "FLOWGATE_RUNS_RECONCILE_GRACE_MS", "500",
        "FLOWGATE_RUNS_REAP_INTERVAL_MS", "100"));
    http = gateway.http();
    flowId = create(flow("echo", node("input", "api_input", new JsonObject()),
        node("shape", "transform", new JsonObject().put("expression", "{\"n\": n, \"twice\": n * 2}")),
        node("output", "output", new JsonObject())));
    slowFlowId = create(flow("slow", node("input", "api_input", new JsonObject()),
        node("wait", "delay", new JsonObject().put("ms", 1500)),
        node("output", "output", new JsonObject().put("expression", "{\"n\": $input.n}"))));
    asyncApi = deploy(flowId, "async", "api", null);
    asyncServer = deploy(flowId, "async", "server", null);
    slowAsyncApi = deploy(slowFlowId, "async", "api", null);
    slowAsyncServer = deploy(slowFlowId, "async", "server", null);
    slowSyncApi = deploy(slowFlowId, "sync", "api", null);
    slowSyncServer = deploy(slowFlowId, "sync", "server", null);
    syncServer = deploy(flowId, "sync", "server", null);
  }

  @AfterAll
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
  }

  private String create(JsonObject flow) {
    Reply r = http.admin("POST", "/api/v1/flows", flow, ADMIN);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.data().getString("id");
  }

  private TriggerApiTestBase.Deployed deploy(String flow, String mode, String type, Integer timeout) {
    JsonObject body = new JsonObject().put("flow_id", flow).put("execution_mode", mode).put("deployment_type", type);
    if (timeout != null) {
      body.put("timeout_seconds", timeout);
    }
    Reply r = http.admin("POST", "/api/v1/deployments", body, ADMIN);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return new TriggerApiTestBase.Deployed(r.data().getString("id"), r.data().getString("api_key"),
        r.data().getString("api_key_id"));
  }

  private Reply poll(String runId, String key, int wait) {
    return http.send("GET", "/node/flow-runs/" + runId + "/?wait=" + wait, null, "X-API-Key", key);
  }

  @Test
  void queued_runs_execute_on_every_event_loop_of_the_node() throws Exception {
    // This gateway has 2 event loops, so 2 queue workers: each takes runs from the stream as a consumer of its own.
    String probeFlow = create(flow("probe", node("input", "api_input", new JsonObject()),
        node("wait", "delay", new JsonObject().put("ms", 30)),
        node("probe", "test_thread_probe", new JsonObject()),
        node("output", "output", new JsonObject())));
    TriggerApiTestBase.Deployed d = deploy(probeFlow, "async", "api", null);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<CompletableFuture<String>> runs = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        runs.add(CompletableFuture.supplyAsync(() -> {
          Reply r = http.trigger(d.id(), d.apiKey(), "{\"input_data\": {}}");
          assertThat(r.status()).as(r.toString()).isEqualTo(202);
          return r.data().getString("flow_run_id");
        }, pool));
      }
      Set<String> threads = new HashSet<>();
      for (CompletableFuture<String> run : runs) {
        Reply done = poll(run.get(30, TimeUnit.SECONDS), d.apiKey(), 10);
        assertThat(done.data().getString("status")).as(done.toString()).isEqualTo("completed");
        threads.add(done.data().getJsonObject("output_data").getString("thread"));
      }
      assertThat(threads).as("event loops that executed the runs").hasSize(2)
          .allSatisfy(t -> assertThat(t).startsWith("vert.x-eventloop-thread-"));
    } finally {
      pool.shutdownNow();
    }
    Set<String> consumers = new HashSet<>();
    String node = gateway.config().node().id();
    for (var c : await(gateway.gateway().redis().send(Request.cmd(Command.XINFO).arg("CONSUMERS")
        .arg(gateway.config().redis().keyPrefix() + "runs").arg("workers")))) {
      for (int i = 0; i + 1 < c.size(); i += 2) {
        if ("name".equals(c.get(i).toString())) {
          consumers.add(c.get(i + 1).toString());
        }
      }
    }
    assertThat(consumers).contains(node, node + "/1");
  }

  @Test
  void async_triggers_answer_202_with_the_poll_location_and_complete() {
    for (TriggerApiTestBase.Deployed d : List.of(asyncApi, asyncServer)) {
      Reply r = http.trigger(d.id(), d.apiKey(), "{\"input_data\": {\"n\": 21}}");
      assertThat(r.status()).as(r.toString()).isEqualTo(202);
      JsonObject data = r.data();
      String runId = data.getString("flow_run_id");
      assertThat(data.getString("status")).isEqualTo("queued");
      assertThat(data.getString("message")).isEqualTo("Flow execution started. Use the flow_run_id to check status.");
      assertThat(data.getString("poll_url")).isEqualTo("/node/flow-runs/" + runId + "/");
      assertThat(r.header("Location")).isEqualTo("/node/flow-runs/" + runId + "/");
      Reply done = poll(runId, d.apiKey(), 10);
      assertThat(done.data().getString("status")).as(done.toString()).isEqualTo("completed");
      assertThat(done.data().getJsonObject("output_data")).isEqualTo(new JsonObject().put("n", 21).put("twice", 42));
    }
  }

  @Test
  void an_accepted_async_run_is_recorded_in_postgresql_before_its_202() {
    Reply r = http.trigger(slowAsyncApi.id(), slowAsyncApi.apiKey(), "{\"input_data\": {\"n\": 5}}");
    String runId = r.data().getString("flow_run_id");
    var rows = await(gateway.gateway().pool().preparedQuery(
        "SELECT status, input_data FROM run_history WHERE id = $1").execute(Tuple.of(UUID.fromString(runId))));
    assertThat(rows.size()).isEqualTo(1);
    assertThat(rows.iterator().next().getJsonObject("input_data")).isEqualTo(new JsonObject().put("n", 5));
  }

  @Test
  void a_long_poll_wakes_when_the_run_ends_not_when_the_wait_ends() {
    Reply r = http.trigger(slowAsyncApi.id(), slowAsyncApi.apiKey(), "{\"input_data\": {\"n\": 1}}");
    String runId = r.data().getString("flow_run_id");
    Reply immediate = poll(runId, slowAsyncApi.apiKey(), 0);
    assertThat(immediate.data().getString("status")).isIn("queued", "running");
    long start = System.nanoTime();
    Reply done = poll(runId, slowAsyncApi.apiKey(), 30);
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertThat(done.data().getString("status")).isEqualTo("completed");
    assertThat(tookMs).isLessThan(15_000);
  }

  @Test
  void wait_out_of_range_is_400() {
    String runId = http.trigger(asyncApi.id(), asyncApi.apiKey(), "{\"input_data\": {\"n\": 1}}").data()
        .getString("flow_run_id");
    assertProblem(http.send("GET", "/node/flow-runs/" + runId + "/?wait=61", null, "X-API-Key", asyncApi.apiKey()),
        400, "invalid_request");
    assertProblem(http.send("GET", "/node/flow-runs/" + runId + "/?wait=abc", null, "X-API-Key", asyncApi.apiKey()),
        400, "invalid_request");
    assertProblem(http.send("GET", "/node/flow-runs/" + runId + "/?wait=-1", null, "X-API-Key", asyncApi.apiKey()),
        400, "invalid_request");
  }

  @Test
  void cancelling_a_running_delay_stops_it_and_ends_the_run_cancelled() {
    for (TriggerApiTestBase.Deployed d : List.of(slowAsyncApi, slowAsyncServer)) {
      String runId = http.trigger(d.id(), d.apiKey(), "{\"input_data\": {\"n\": 1}}").data()
          .getString("flow_run_id");
      long start = System.nanoTime();
      Reply cancel = http.send("POST", "/node/flow-runs/" + runId + "/cancel", null, "X-API-Key", d.apiKey());
      assertThat(cancel.status()).as(cancel.toString()).isEqualTo(202);
      assertThat(cancel.data().getString("status")).isEqualTo("cancelled");
      Reply after = poll(runId, d.apiKey(), 5);
      assertThat(after.data().getString("status")).isEqualTo("cancelled");
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(1400);
      // Cancelling again returns the ended run unchanged.
      Reply again = http.send("POST", "/node/flow-runs/" + runId + "/cancel", null, "X-API-Key", d.apiKey());
      assertThat(again.status()).isEqualTo(202);
      assertThat(again.data().getString("status")).isEqualTo("cancelled");
      assertThat(again.data().getString("finished_at")).isEqualTo(cancel.data().getString("finished_at"));
    }
  }

  @Test
  void a_queued_run_cancelled_before_any_worker_took_it_never_runs() {
    String runId = UUID.randomUUID().toString();
    JsonObject deployment = http.admin("GET", "/api/v1/deployments/" + asyncApi.id(), null, ADMIN).data();
    String prefix = gateway.config().redis().keyPrefix();
    long now = System.currentTimeMillis();
    // Queued, as the accept leaves it, but its queue entry not yet delivered (every worker busy).
    await(gateway.gateway().redis().send(Request.cmd(Command.HSET).arg(prefix + "run:" + runId)
        .arg("status").arg("queued").arg("profile").arg("00000000-0000-0000-0000-000000000000")
        .arg("deployment").arg(asyncApi.id()).arg("flow_id").arg(deployment.getString("flow_id"))
        .arg("flow_version").arg(deployment.getInteger("flow_version")).arg("mode").arg("async").arg("type").arg("api")
        .arg("created_at").arg(java.time.Instant.now().toString()).arg("input").arg("{\"n\": 1}")
        .arg("deadline").arg(now + 60_000).arg("attempt").arg(0)));
    Reply cancel = http.send("POST", "/node/flow-runs/" + runId + "/cancel", null, "X-API-Key", asyncApi.apiKey());
    assertThat(cancel.data().getString("status")).isEqualTo("cancelled");
    // Now a worker receives the entry: it must not run the cancelled run.
    await(gateway.gateway().redis().send(Request.cmd(Command.XADD).arg(prefix + "runs").arg("*").arg("run")
        .arg(runId)));
    Reply later = poll(runId, asyncApi.apiKey(), 1);
    assertThat(later.data().getString("status")).isEqualTo("cancelled");
    assertThat(later.data().getString("started_at")).isNull();
    assertThat(later.data().getJsonObject("output_data")).isNull();
  }

  @Test
  void cancelling_a_completed_run_returns_it_unchanged() {
    Reply r = http.trigger(syncServer.id(), syncServer.apiKey(), "{\"input_data\": {\"n\": 2}}");
    String runId = r.data().getString("flow_run_id");
    Reply cancel = http.send("POST", "/node/flow-runs/" + runId + "/cancel", null, "X-API-Key", syncServer.apiKey());
    assertThat(cancel.status()).isEqualTo(202);
    assertThat(cancel.data().getString("status")).isEqualTo("completed");
    assertThat(cancel.data().getJsonObject("output_data").getInteger("twice")).isEqualTo(4);
  }

  @Test
  void poll_and_cancel_refuse_bad_keys_and_ids() {
    String runId = http.trigger(asyncApi.id(), asyncApi.apiKey(), "{\"input_data\": {\"n\": 1}}").data()
        .getString("flow_run_id");
    assertProblem(http.send("POST", "/node/flow-runs/" + runId + "/cancel", null), 401, "missing_api_key");
    assertProblem(http.send("POST", "/node/flow-runs/" + runId + "/cancel", null, "X-API-Key", "sk-nope"), 401,
        "invalid_api_key");
    assertProblem(http.send("POST", "/node/flow-runs/" + runId + "/cancel", null, "X-API-Key",
        asyncServer.apiKey()), 404, "flow_run_not_found");
    assertProblem(http.send("POST", "/node/flow-runs/nope/cancel", null, "X-API-Key", asyncApi.apiKey()), 404,
        "flow_run_not_found");
    assertProblem(http.send("GET", "/node/flow-runs/" + runId + "/?wait=1", null, "X-API-Key",
        asyncServer.apiKey()), 404, "flow_run_not_found");
  }

  @Test
  void prefer_respond_async_makes_a_sync_trigger_answer_202() {
    Reply r = http.trigger(syncServer.id(), syncServer.apiKey(), "{\"input_data\": {\"n\": 3}}",
        "Prefer", "respond-async");
    assertThat(r.status()).as(r.toString()).isEqualTo(202);
    assertThat(r.header("Preference-Applied")).isEqualTo("respond-async");
    Reply done = poll(r.data().getString("flow_run_id"), syncServer.apiKey(), 10);
    assertThat(done.data().getJsonObject("output_data").getInteger("twice")).isEqualTo(6);
  }

  @Test
  void prefer_wait_hands_a_slow_sync_run_over_as_202_and_the_run_goes_on() {
    for (TriggerApiTestBase.Deployed d : List.of(slowSyncApi, slowSyncServer)) {
      long start = System.nanoTime();
      Reply r = http.trigger(d.id(), d.apiKey(), "{\"input_data\": {\"n\": 4}}", "Prefer", "wait=0");
      assertThat(r.status()).as(r.toString()).isEqualTo(202);
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(1400);
      assertThat(r.header("Location")).isEqualTo("/node/flow-runs/" + r.data().getString("flow_run_id") + "/");
      Reply done = poll(r.data().getString("flow_run_id"), d.apiKey(), 10);
      assertThat(done.data().getString("status")).isEqualTo("completed");
      // A long enough wait answers with the result itself; unknown preferences are ignored.
      Reply full = http.trigger(d.id(), d.apiKey(), "{\"input_data\": {\"n\": 4}}", "Prefer",
          "wait=10, handling=lenient, foo");
      assertThat(full.status()).as(full.toString()).isEqualTo(200);
      assertThat(full.data().getJsonObject("output_data").getInteger("n")).isEqualTo(4);
    }
  }

  @Test
  void an_idempotency_key_replays_the_same_run_and_refuses_another_body() {
    String key = "order-" + UUID.randomUUID();
    Reply first = http.trigger(syncServer.id(), syncServer.apiKey(), "{\"input_data\": {\"n\": 7}}",
        "Idempotency-Key", key);
    assertThat(first.status()).as(first.toString()).isEqualTo(200);
    Reply second = http.trigger(syncServer.id(), syncServer.apiKey(), "{\"input_data\": {\"n\": 7}}",
        "Idempotency-Key", key);
    assertThat(second.status()).isEqualTo(200);
    assertThat(second.data().getString("flow_run_id")).isEqualTo(first.data().getString("flow_run_id"));
    assertThat(second.data().getJsonObject("output_data")).isEqualTo(first.data().getJsonObject("output_data"));
    assertProblem(http.trigger(syncServer.id(), syncServer.apiKey(), "{\"input_data\": {\"n\": 8}}",
        "Idempotency-Key", key), 422, "idempotency_key_reused");
    assertProblem(http.trigger(syncServer.id(), syncServer.apiKey(), "{}", "Idempotency-Key", "x".repeat(256)), 400,
        "invalid_request");
  }

  @Test
  void concurrent_duplicates_with_one_idempotency_key_make_exactly_one_run() throws Exception {
    for (TriggerApiTestBase.Deployed d : List.of(slowAsyncApi, slowSyncApi)) {
      String key = "dup-" + UUID.randomUUID();
      ExecutorService pool = Executors.newFixedThreadPool(6);
      try {
        List<CompletableFuture<Reply>> replies = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
          replies.add(CompletableFuture.supplyAsync(() -> http.trigger(d.id(), d.apiKey(),
              "{\"input_data\": {\"n\": 9}}", "Idempotency-Key", key), pool));
        }
        Set<String> runIds = new HashSet<>();
        for (CompletableFuture<Reply> f : replies) {
          Reply r = f.get(30, TimeUnit.SECONDS);
          assertThat(r.status()).as(r.toString()).isIn(200, 202);
          runIds.add(r.data().getString("flow_run_id"));
        }
        assertThat(runIds).hasSize(1);
        String runId = runIds.iterator().next();
        assertThat(poll(runId, d.apiKey(), 10).data().getString("status")).isEqualTo("completed");
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void the_reconciler_queues_again_an_accepted_run_that_redis_lost() {
    // Accepted in PostgreSQL (as an async trigger records it) but never written to Redis.
    String runId = UUID.randomUUID().toString();
    JsonObject deployment = http.admin("GET", "/api/v1/deployments/" + asyncApi.id(), null, ADMIN).data();
    OffsetDateTime created = OffsetDateTime.now(ZoneOffset.UTC).minusSeconds(2);
    await(gateway.gateway().pool().preparedQuery("""
        INSERT INTO run_history (id, profile_id, deployment_id, flow_id, flow_version, execution_mode,
          deployment_type, status, node_id, created_at, input_data, deadline_at, origin_node)
        VALUES ($1, '00000000-0000-0000-0000-000000000000', $2, $3, $4, 'async', 'api', 'queued', 'gone', $5, $6, $7,
          'gone')
        """).execute(Tuple.tuple().addUUID(UUID.fromString(runId)).addUUID(UUID.fromString(asyncApi.id()))
        .addUUID(UUID.fromString(deployment.getString("flow_id"))).addInteger(deployment.getInteger("flow_version"))
        .addOffsetDateTime(created).addValue(new JsonObject().put("n", 50)).addOffsetDateTime(created.plusHours(1))));
    Reply done = null;
    for (int i = 0; i < 20 && (done == null || done.status() != 200
        || !"completed".equals(done.data().getString("status"))); i++) {
      done = poll(runId, asyncApi.apiKey(), 1);
    }
    assertThat(done.data().getString("status")).as(done.toString()).isEqualTo("completed");
    assertThat(done.data().getJsonObject("output_data").getInteger("twice")).isEqualTo(100);
  }

  @Test
  void a_run_whose_worker_vanished_is_run_again_when_its_lease_expires() {
    String runId = UUID.randomUUID().toString();
    JsonObject deployment = http.admin("GET", "/api/v1/deployments/" + asyncApi.id(), null, ADMIN).data();
    String key = gateway.config().redis().keyPrefix() + "run:" + runId;
    long now = System.currentTimeMillis();
    // As a node that started the run and then died leaves it: running, held by "ghost", lease already expired.
    await(gateway.gateway().redis().send(Request.cmd(Command.HSET).arg(key)
        .arg("status").arg("running").arg("profile").arg("00000000-0000-0000-0000-000000000000")
        .arg("deployment").arg(asyncApi.id()).arg("flow_id").arg(deployment.getString("flow_id"))
        .arg("flow_version").arg(deployment.getInteger("flow_version")).arg("mode").arg("async").arg("type").arg("api")
        .arg("created_at").arg(java.time.Instant.now().toString()).arg("input").arg("{\"n\": 6}")
        .arg("origin").arg("ghost").arg("deadline").arg(now + 60_000).arg("attempt").arg(1).arg("worker")
        .arg("ghost")));
    await(gateway.gateway().redis().send(Request.cmd(Command.ZADD)
        .arg(gateway.config().redis().keyPrefix() + "leases").arg(now - 1).arg(runId)));
    Reply done = poll(runId, asyncApi.apiKey(), 10);
    assertThat(done.data().getString("status")).as(done.toString()).isEqualTo("completed");
    assertThat(done.data().getJsonObject("output_data").getInteger("twice")).isEqualTo(12);
  }

  @Test
  void a_queued_run_past_its_deadline_is_ended_timed_out_by_the_reaper() {
    String runId = UUID.randomUUID().toString();
    String key = gateway.config().redis().keyPrefix() + "run:" + runId;
    long now = System.currentTimeMillis();
    // Queued (but not on the stream, as if every worker were busy) with a deadline already passed.
    await(gateway.gateway().redis().send(Request.cmd(Command.HSET).arg(key)
        .arg("status").arg("queued").arg("profile").arg("00000000-0000-0000-0000-000000000000")
        .arg("deployment").arg(asyncApi.id()).arg("mode").arg("async").arg("type").arg("api")
        .arg("created_at").arg(java.time.Instant.now().toString()).arg("input").arg("{}")
        .arg("deadline").arg(now - 1).arg("attempt").arg(0)));
    await(gateway.gateway().redis().send(Request.cmd(Command.ZADD)
        .arg(gateway.config().redis().keyPrefix() + "deadlines").arg(now - 1).arg(runId)));
    Reply done = null;
    for (int i = 0; i < 10 && (done == null || !"timed_out".equals(done.data().getString("status"))); i++) {
      done = poll(runId, asyncApi.apiKey(), 1);
    }
    assertThat(done.data().getString("status")).as(done.toString()).isEqualTo("timed_out");
  }

  private static <T> T await(io.vertx.core.Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
