package io.flowgate.usage;

import static io.flowgate.testsupport.ControlPlane.createDeployment;
import static io.flowgate.testsupport.ControlPlane.createFlow;
import static io.flowgate.testsupport.ControlPlane.ok;
import static io.flowgate.testsupport.ControlPlane.versionedFlow;
import static io.flowgate.usage.UsageFixtures.byId;
import static io.flowgate.usage.UsageFixtures.deployDelay;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.deployments.ApiKeys;
import io.flowgate.testsupport.GatewayUnderTest;
import io.flowgate.testsupport.TestHttp.Reply;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code GET /api/v1/deployments/{id}/usage} against the calls this test made: counts and errors by code per key and
 * in total, latency percentiles, the last call, and the queue wait and execution time of queued runs (per key across
 * two nodes: {@link UsagePerKeyTest}). The node's periodic write is set to 10 minutes: the report must write this
 * node's counts itself before it reads.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UsageApiTest {
  private GatewayUnderTest node;

  @BeforeAll
  void start() {
    node = GatewayUnderTest.start(GatewayUnderTest.Backing.fresh(UsageApiTest.class), 1,
        Map.of("FLOWGATE_USAGE_FLUSH_MS", "600000"));
  }

  @AfterAll
  void stop() {
    if (node != null) {
      node.close();
    }
  }

  @Test
  void usage_counts_the_calls_made_per_key_and_in_total() {
    Instant started = Instant.now();
    String flow = createFlow(node.http(), versionedFlow("counted", 1, 0));
    JsonObject d = createDeployment(node.http(), new JsonObject().put("flow_id", flow)
        .put("deployment_type", "server")
        .put("rate_limit", new JsonObject().put("requests_per_second", 0.001).put("burst", 6)));
    String id = d.getString("id");
    String keyA = d.getString("api_key");
    JsonObject b = ok(node.http(), "POST", "/api/v1/deployments/" + id + "/api-keys",
        new JsonObject().put("name", "b"), 201);
    String keyB = b.getString("api_key");

    // Key A: 4 successes, input_data not an object (400), input failing the schema (422).
    for (int i = 0; i < 4; i++) {
      assertThat(node.http().trigger(id, keyA, "{\"input_data\": {\"n\": " + i + "}}").status()).isEqualTo(200);
    }
    assertThat(node.http().trigger(id, keyA, "{\"input_data\": [1]}").status()).isEqualTo(400);
    assertThat(node.http().trigger(id, keyA, "{\"input_data\": {\"n\": \"x\"}}").status()).isEqualTo(422);
    // Key B: its burst of 6, then 2 refused by the rate limit.
    for (int i = 0; i < 8; i++) {
      assertThat(node.http().trigger(id, keyB, "{\"input_data\": {\"n\": 1}}").status()).isEqualTo(i < 6 ? 200 : 429);
    }
    // A wrong key never reaches the deployment: not its usage.
    assertThat(node.http().trigger(id, ApiKeys.generate(), "{}").status()).isEqualTo(401);

    JsonObject usage = ok(node.http(), "GET", "/api/v1/deployments/" + id + "/usage?window=1h", null, 200);
    assertThat(usage.getString("deployment_id")).isEqualTo(id);
    assertThat(usage.getLong("calls")).isEqualTo(14);
    assertThat(usage.getLong("errors")).isEqualTo(4);
    assertThat(usage.getJsonObject("errors_by_code")).isEqualTo(new JsonObject().put("input_validation_failed", 1)
        .put("invalid_input", 1).put("rate_limited", 2));
    assertLatency(usage.getJsonObject("latency_ms"));
    assertThat(Instant.parse(usage.getString("last_call_at"))).isBetween(started, Instant.now());
    assertThat(usage.getJsonObject("queued_runs").getLong("runs")).as("server sync runs wait in no queue").isZero();

    JsonArray keys = usage.getJsonArray("keys");
    assertThat(keys).hasSize(2);
    JsonObject a = byId(keys, d.getString("api_key_id"));
    assertThat(a.getString("key")).isEqualTo(ApiKeys.mask(keyA));
    assertThat(a.getString("name")).isEqualTo("default");
    assertThat(a.getLong("calls")).isEqualTo(6);
    assertThat(a.getJsonObject("errors_by_code")).isEqualTo(new JsonObject().put("input_validation_failed", 1)
        .put("invalid_input", 1));
    JsonObject bUsage = byId(keys, b.getString("id"));
    assertThat(bUsage.getString("key")).isEqualTo(ApiKeys.mask(keyB));
    assertThat(bUsage.getLong("calls")).isEqualTo(8);
    assertThat(bUsage.getLong("errors")).isEqualTo(2);
    assertThat(bUsage.getJsonObject("errors_by_code")).isEqualTo(new JsonObject().put("rate_limited", 2));
    assertThat(bUsage.getJsonObject("queued_runs").getLong("runs")).isZero();
    assertLatency(bUsage.getJsonObject("latency_ms"));
    assertThat(usage.encode()).doesNotContain(keyA).doesNotContain(keyB);

    for (String window : new String[] {"24h", "7d"}) {
      JsonObject wider = ok(node.http(), "GET", "/api/v1/deployments/" + id + "/usage?window=" + window, null, 200);
      assertThat(wider.getLong("calls")).as(window).isEqualTo(14);
      assertThat(wider.getString("window")).isEqualTo(window);
    }
  }

  @Test
  void usage_shows_the_queue_wait_and_execution_time_of_queued_runs() {
    JsonObject d = deployDelay(node.http(), "queued", 150, "api", "async");
    String id = d.getString("id");
    String key = d.getString("api_key");
    for (int i = 0; i < 3; i++) {
      Reply accepted = node.http().trigger(id, key, "{\"input_data\": {\"n\": " + i + "}}");
      assertThat(accepted.status()).isEqualTo(202);
      Reply ended = node.http().send("GET", "/node/flow-runs/" + accepted.data().getString("flow_run_id")
          + "/?wait=10", null, "X-API-Key", key);
      assertThat(ended.data().getString("status")).isEqualTo("completed");
    }
    // A run is counted as its end is recorded, just after its status turns completed.
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> ok(node.http(), "GET",
        "/api/v1/deployments/" + id + "/usage", null, 200).getJsonObject("queued_runs").getLong("runs") == 3);
    JsonObject usage = ok(node.http(), "GET", "/api/v1/deployments/" + id + "/usage", null, 200);
    assertThat(usage.getLong("calls")).isEqualTo(3);
    assertThat(usage.getLong("errors")).isZero();
    JsonObject runs = usage.getJsonObject("queued_runs");
    JsonObject execution = runs.getJsonObject("execution_ms");
    // Each run waits 150 ms in its delay node; a bucket is at most 19% wide.
    assertThat(execution.getDouble("p50")).isBetween(150 / 1.19, 1000.0);
    assertThat(execution.getDouble("mean")).isBetween(150.0, 1000.0);
    JsonObject wait = runs.getJsonObject("queue_wait_ms");
    assertThat(wait.getDouble("p50")).isNotNull().isGreaterThanOrEqualTo(0.0);
    assertThat(wait.getDouble("p50")).isLessThanOrEqualTo(wait.getDouble("p99"));
    assertThat(wait.getDouble("mean")).isLessThan(execution.getDouble("mean"));
    // The deployment's one key made them all.
    assertThat(runs.getLong("runs_without_key")).isZero();
    JsonObject perKey = byId(usage.getJsonArray("keys"), d.getString("api_key_id")).getJsonObject("queued_runs");
    assertThat(perKey.getLong("runs")).isEqualTo(3);
    assertThat(perKey.getJsonObject("execution_ms").getDouble("total"))
        .isEqualTo(execution.getDouble("total")).isGreaterThanOrEqualTo(3 * 150.0);
  }

  private static void assertLatency(JsonObject latency) {
    double p50 = latency.getDouble("p50");
    assertThat(p50).isPositive();
    assertThat(latency.getDouble("p95")).isGreaterThanOrEqualTo(p50);
    assertThat(latency.getDouble("p99")).isGreaterThanOrEqualTo(latency.getDouble("p95")).isLessThan(30_000.0);
    assertThat(latency.getDouble("mean")).isPositive();
  }
}
