package io.flowgate.usage;

import static io.flowgate.testsupport.ControlPlane.ok;
import static io.flowgate.usage.UsageFixtures.byId;
import static io.flowgate.usage.UsageFixtures.deployDelay;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Error;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.flowgate.deployments.ApiKeys;
import io.flowgate.testsupport.GatewayUnderTest;
import io.flowgate.testsupport.OpenApiValidation;
import io.flowgate.testsupport.TestHttp.Reply;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The queue wait and execution time of queued runs per API key, against the runs this test made on a two-node cluster:
 * node a takes every trigger and answers the usage reports (writing its own counts first); both nodes execute queued
 * runs, and a run executed by node b is counted there, under the key that triggered it on node a. Expected figures
 * come from each run's own {@code created_at}, {@code started_at} and {@code finished_at}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UsagePerKeyTest {
  private GatewayUnderTest a;
  private GatewayUnderTest b;

  @BeforeAll
  void start() {
    GatewayUnderTest.Backing backing = GatewayUnderTest.Backing.fresh(UsagePerKeyTest.class);
    a = GatewayUnderTest.start(backing, 1, Map.of("FLOWGATE_NODE_ID", "usage-a", "FLOWGATE_USAGE_FLUSH_MS", "600000"));
    b = GatewayUnderTest.start(backing, 1, Map.of("FLOWGATE_NODE_ID", "usage-b", "FLOWGATE_USAGE_FLUSH_MS", "200"));
  }

  @AfterAll
  void stop() {
    GatewayUnderTest.closeAll(a, b);
  }

  /** What one key's queued runs must add up to. */
  private static final class Expected {
    long calls;
    long runs;
    double waitMs;
    double executionMs;

    /** Counts an ended run as its wire form shows it. */
    void ran(JsonObject run) {
      assertThat(run.getString("status")).as("run %s", run).isEqualTo("completed");
      Instant created = Instant.parse(run.getString("created_at"));
      Instant started = Instant.parse(run.getString("started_at"));
      Instant finished = Instant.parse(run.getString("finished_at"));
      runs++;
      waitMs += Duration.between(created, started).toNanos() / 1e6;
      executionMs += Duration.between(started, finished).toNanos() / 1e6;
    }
  }

  @Test
  void queued_runs_are_counted_per_key_wherever_they_ran_and_add_up_to_the_deployment() {
    JsonObject d = deployDelay(a.http(), "per-key", 40, "api", "async");
    String id = d.getString("id");
    Map<String, String> keys = new LinkedHashMap<>();
    keys.put(d.getString("api_key_id"), d.getString("api_key"));
    for (String name : new String[] {"b", "c"}) {
      JsonObject k = ok(a.http(), "POST", "/api/v1/deployments/" + id + "/api-keys", new JsonObject().put("name", name),
          201);
      keys.put(k.getString("id"), k.getString("api_key"));
    }
    String[] ids = keys.keySet().toArray(String[]::new);
    String keyA = ids[0];
    String keyB = ids[1];
    String keyC = ids[2];
    Map<String, Expected> expected = new LinkedHashMap<>();
    for (String k : ids) {
      expected.put(k, new Expected());
    }

    // Async: A twice, C once; B until node b has executed at least one run of this test (they go to either node).
    asyncRun(id, keyA, keys, expected);
    asyncRun(id, keyA, keys, expected);
    asyncRun(id, keyC, keys, expected);
    for (int i = 0; i < 30 && executedRuns(b) == 0; i++) {
      asyncRun(id, keyB, keys, expected);
    }
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> executedRuns(b) > 0);

    // Sync, still through the queue (api type): A once, B twice, and once more handed off at once (respond-async).
    ok(a.http(), "PATCH", "/api/v1/deployments/" + id, new JsonObject().put("execution_mode", "sync"), 200);
    syncRun(id, keyA, keys, expected);
    syncRun(id, keyB, keys, expected);
    syncRun(id, keyB, keys, expected);
    Reply handedOff = a.http().trigger(id, keys.get(keyB), "{\"input_data\": {\"n\": 1}}", "Prefer", "respond-async");
    assertThat(handedOff.status()).isEqualTo(202);
    expected.get(keyB).calls++;
    expected.get(keyB).ran(poll(handedOff.data().getString("flow_run_id"), keys.get(keyB)));

    // C is deleted: its runs stay counted under it; its key no longer reaches the deployment.
    assertThat(a.http().admin("DELETE", "/api/v1/api-keys/" + keyC, null, GatewayUnderTest.ADMIN_TOKEN).status())
        .isEqualTo(204);
    assertThat(a.http().trigger(id, keys.get(keyC), "{\"input_data\": {\"n\": 1}}").status()).isEqualTo(401);

    long total = expected.values().stream().mapToLong(e -> e.runs).sum();
    // Node b writes every 200 ms, and a run is counted as its end is recorded, just after its status turns completed.
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> usage(id).getJsonObject("queued_runs")
        .getLong("runs") == total);
    JsonObject usage = usage(id);

    JsonArray perKey = usage.getJsonArray("keys");
    assertThat(perKey).hasSize(3);
    double waitSum = 0;
    double executionSum = 0;
    for (String k : ids) {
      Expected e = expected.get(k);
      JsonObject entry = byId(perKey, k);
      assertThat(entry.getLong("calls")).as("calls of %s", k).isEqualTo(e.calls);
      JsonObject runs = entry.getJsonObject("queued_runs");
      assertThat(runs.getLong("runs")).as("runs of %s", k).isEqualTo(e.runs);
      assertRunTimes(runs, e.runs, e.waitMs, e.executionMs);
      waitSum += runs.getJsonObject("queue_wait_ms").getDouble("total");
      executionSum += runs.getJsonObject("execution_ms").getDouble("total");
    }
    assertThat(byId(perKey, keyC).getString("key")).as("a deleted key").isNull();
    assertThat(byId(perKey, keyA).getString("key")).isEqualTo(ApiKeys.mask(keys.get(keyA)));

    JsonObject all = usage.getJsonObject("queued_runs");
    assertThat(all.getLong("runs_without_key")).isZero();
    assertThat(all.getLong("runs")).isEqualTo(total);
    assertThat(all.getJsonObject("queue_wait_ms").getDouble("total")).isCloseTo(waitSum, within(0.01));
    assertThat(all.getJsonObject("execution_ms").getDouble("total")).isCloseTo(executionSum, within(0.01));
    assertRunTimes(all, total, expected.values().stream().mapToDouble(e -> e.waitMs).sum(),
        expected.values().stream().mapToDouble(e -> e.executionMs).sum());
    assertThat(usage.getLong("calls")).isEqualTo(expected.values().stream().mapToLong(e -> e.calls).sum());
    assertMatchesTheDocumentedSchema(usage);
  }

  @Test
  void background_runs_of_a_server_deployment_count_under_their_key() {
    JsonObject d = deployDelay(a.http(), "background", 30, "server", "async");
    String id = d.getString("id");
    String keyA = d.getString("api_key");
    JsonObject b2 = ok(a.http(), "POST", "/api/v1/deployments/" + id + "/api-keys", new JsonObject().put("name", "b"),
        201);
    for (String key : new String[] {keyA, keyA, b2.getString("api_key")}) {
      Reply accepted = a.http().trigger(id, key, "{\"input_data\": {\"n\": 1}}");
      assertThat(accepted.status()).isEqualTo(202);
      assertThat(poll(accepted.data().getString("flow_run_id"), key).getString("status")).isEqualTo("completed");
    }

    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> usage(id).getJsonObject("queued_runs")
        .getLong("runs") == 3);
    JsonObject usage = usage(id);
    JsonObject first = byId(usage.getJsonArray("keys"), d.getString("api_key_id")).getJsonObject("queued_runs");
    JsonObject second = byId(usage.getJsonArray("keys"), b2.getString("id")).getJsonObject("queued_runs");
    assertThat(first.getLong("runs")).isEqualTo(2);
    assertThat(second.getLong("runs")).isEqualTo(1);
    // Each run spends 30 ms in its delay node.
    assertThat(first.getJsonObject("execution_ms").getDouble("total")).isGreaterThanOrEqualTo(60.0);
    assertThat(second.getJsonObject("execution_ms").getDouble("mean")).isGreaterThanOrEqualTo(30.0);
    assertThat(usage.getJsonObject("queued_runs").getJsonObject("execution_ms").getDouble("total"))
        .isCloseTo(first.getJsonObject("execution_ms").getDouble("total")
            + second.getJsonObject("execution_ms").getDouble("total"), within(0.01));
  }

  private void asyncRun(String deployment, String keyId, Map<String, String> keys, Map<String, Expected> expected) {
    Reply accepted = a.http().trigger(deployment, keys.get(keyId), "{\"input_data\": {\"n\": 1}}");
    assertThat(accepted.status()).as("%s", accepted).isEqualTo(202);
    assertThat(accepted.data().fieldNames()).doesNotContain("api_key_id");
    expected.get(keyId).calls++;
    expected.get(keyId).ran(poll(accepted.data().getString("flow_run_id"), keys.get(keyId)));
  }

  private void syncRun(String deployment, String keyId, Map<String, String> keys, Map<String, Expected> expected) {
    Reply done = a.http().trigger(deployment, keys.get(keyId), "{\"input_data\": {\"n\": 1}}");
    assertThat(done.status()).as("%s", done).isEqualTo(200);
    assertThat(done.data().fieldNames()).doesNotContain("api_key_id");
    expected.get(keyId).calls++;
    expected.get(keyId).ran(done.data());
  }

  /** The run once it has ended, as the poll answers it (which never shows its key). */
  private JsonObject poll(String runId, String apiKey) {
    Reply ended = a.http().send("GET", "/node/flow-runs/" + runId + "/?wait=10", null, "X-API-Key", apiKey);
    assertThat(ended.status()).as("%s", ended).isEqualTo(200);
    assertThat(ended.data().fieldNames()).doesNotContain("api_key_id");
    return ended.data();
  }

  private JsonObject usage(String deployment) {
    return ok(a.http(), "GET", "/api/v1/deployments/" + deployment + "/usage?window=1h", null, 200);
  }

  /** The answer fits the {@code Usage} schema of the gateway's own (valid) OpenAPI document. */
  private void assertMatchesTheDocumentedSchema(JsonObject usage) {
    JsonObject document = a.http().send("GET", "/openapi.json", null).json();
    OpenApiValidation.validate(a.vertx(), document);
    // The document's schemas as one JSON Schema resource, so that their "#/components/..." references resolve.
    JsonObject schema = new JsonObject().put("$ref", "#/components/schemas/Usage")
        .put("components", document.getJsonObject("components"));
    try {
      ObjectMapper json = new ObjectMapper();
      List<Error> errors = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
          .getSchema(json.readTree(schema.encode())).validate(json.readTree(usage.encode()));
      assertThat(errors).as("the usage answer against the documented schema").isEmpty();
    } catch (JsonProcessingException e) {
      throw new AssertionError(e);
    }
  }

  /** Queued runs a node has executed and recorded (its Prometheus timer of their queue wait). */
  private static long executedRuns(GatewayUnderTest node) {
    Reply metrics = node.http().send("GET", "/metrics", null);
    return metrics.body().lines().filter(l -> l.startsWith("flowgate_runs_queue_wait_seconds_count"))
        .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  /** Counts and exact totals; percentiles within the buckets' 19% and ordered; means from the totals. */
  private static void assertRunTimes(JsonObject runs, long count, double waitMs, double executionMs) {
    JsonObject wait = runs.getJsonObject("queue_wait_ms");
    JsonObject execution = runs.getJsonObject("execution_ms");
    assertThat(wait.getDouble("total")).isCloseTo(waitMs, within(0.01));
    assertThat(execution.getDouble("total")).isCloseTo(executionMs, within(0.01));
    assertThat(execution.getDouble("mean")).isCloseTo(executionMs / count, within(0.01));
    assertThat(wait.getDouble("p50")).isLessThanOrEqualTo(wait.getDouble("p99"));
    // Every run spends 40 ms in its delay node: no execution is shorter.
    assertThat(execution.getDouble("p50")).isGreaterThanOrEqualTo(40 / 1.19)
        .isLessThanOrEqualTo(execution.getDouble("p95"));
  }
}
