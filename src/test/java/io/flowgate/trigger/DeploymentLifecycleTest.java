package io.flowgate.trigger;

import static io.flowgate.testsupport.Futures.await;
import static io.flowgate.testsupport.ControlPlane.createDeployment;
import static io.flowgate.testsupport.ControlPlane.createFlow;
import static io.flowgate.testsupport.ControlPlane.ok;
import static io.flowgate.testsupport.ControlPlane.problemCode;
import static io.flowgate.testsupport.ControlPlane.versionedFlow;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.testsupport.ControlPlane;
import io.flowgate.testsupport.GatewayUnderTest;
import io.flowgate.testsupport.TestHttp.Reply;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Issue #6 item 1 on two nodes sharing Redis and PostgreSQL: a PATCH made through one node takes effect on the other
 * within a second; a redeploy pins the flow's latest version while a run accepted before it finishes on its own
 * version (the poll and run_history say which); a DELETE refuses new triggers at once while a run in flight ends.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeploymentLifecycleTest {
  private static final Duration PROPAGATION = Duration.ofSeconds(1);
  private GatewayUnderTest a;
  private GatewayUnderTest b;
  private String profileKey;

  @BeforeAll
  void start() {
    GatewayUnderTest.Backing backing = GatewayUnderTest.Backing.fresh(DeploymentLifecycleTest.class);
    a = GatewayUnderTest.start(backing, 1, Map.of("FLOWGATE_NODE_ID", "life-a"));
    b = GatewayUnderTest.start(backing, 1, Map.of("FLOWGATE_NODE_ID", "life-b"));
    profileKey = ok(a.http(), "POST", "/api/v1/api-keys", new JsonObject().put("name", "everything"), 201)
        .getString("api_key");
  }

  @AfterAll
  void stop() {
    GatewayUnderTest.closeAll(a, b);
  }

  @Test
  void a_patch_through_one_node_takes_effect_on_the_other_within_a_second() {
    String flow = createFlow(a.http(), versionedFlow("patched", 1, 0));
    JsonObject d = createDeployment(a.http(), new JsonObject().put("flow_id", flow)
        .put("deployment_type", "server"));
    String id = d.getString("id");
    String key = d.getString("api_key");
    String body = "{\"input_data\": {\"n\": 1}}";
    // Node b has the deployment cached before the change.
    assertThat(b.http().trigger(id, key, body).status()).isEqualTo(200);

    ok(a.http(), "PATCH", "/api/v1/deployments/" + id, new JsonObject().put("execution_mode", "async"), 200);
    Awaitility.await().atMost(PROPAGATION).pollInterval(Duration.ofMillis(20))
        .until(() -> b.http().trigger(id, key, body).status() == 202);

    ok(a.http(), "PATCH", "/api/v1/deployments/" + id, new JsonObject().put("max_body_bytes", 16)
        .put("execution_mode", "sync"), 200);
    Awaitility.await().atMost(PROPAGATION).pollInterval(Duration.ofMillis(20))
        .until(() -> b.http().trigger(id, key, body).status() == 413);
    assertThat(problemCode(b.http().trigger(id, key, body))).isEqualTo("payload_too_large");

    ok(a.http(), "PATCH", "/api/v1/deployments/" + id, new JsonObject().putNull("max_body_bytes")
        .put("rate_limit", new JsonObject().put("requests_per_second", 0.01).put("burst", 1)), 200);
    Awaitility.await().atMost(PROPAGATION).pollInterval(Duration.ofMillis(20))
        .until(() -> b.http().trigger(id, key, body).status() == 429);
    Reply limited = b.http().trigger(id, key, body);
    assertThat(problemCode(limited)).isEqualTo("rate_limited");
    assertThat(limited.header("RateLimit-Limit")).isEqualTo("1");
  }

  @Test
  void a_redeploy_pins_the_latest_version_while_a_run_in_flight_finishes_on_its_own() {
    String flow = createFlow(a.http(), versionedFlow("versioned", 1, 1500));
    JsonObject d = createDeployment(a.http(), new JsonObject().put("flow_id", flow).put("deployment_type", "api"));
    String id = d.getString("id");
    String key = d.getString("api_key");

    Reply accepted = a.http().trigger(id, key, "{\"input_data\": {\"n\": 7}}", "Prefer", "respond-async");
    assertThat(accepted.status()).as(accepted.toString()).isEqualTo(202);
    String inFlight = accepted.data().getString("flow_run_id");

    ok(a.http(), "PUT", "/api/v1/flows/" + flow, versionedFlow("versioned", 2, 0), 200);
    assertThat(ok(a.http(), "GET", "/api/v1/deployments/" + id, null, 200).getInteger("flow_version"))
        .as("a new flow version is not picked up until a redeploy").isEqualTo(1);
    JsonObject redeployed = ok(a.http(), "POST", "/api/v1/deployments/" + id + "/redeploy", null, 200);
    assertThat(redeployed.getInteger("flow_version")).isEqualTo(2);

    Reply stillRunning = b.http().send("GET", "/node/flow-runs/" + inFlight + "/", null, "X-API-Key", key);
    assertThat(stillRunning.data().getString("status")).as("in flight during the redeploy")
        .isIn("queued", "running");
    assertThat(stillRunning.data().getInteger("flow_version")).isEqualTo(1);

    Reply fresh = a.http().trigger(id, key, "{\"input_data\": {\"n\": 8}}");
    assertThat(fresh.status()).as(fresh.toString()).isEqualTo(200);
    assertThat(fresh.data().getInteger("flow_version")).isEqualTo(2);
    assertThat(fresh.data().getJsonObject("output_data")).isEqualTo(new JsonObject().put("version", 2).put("n", 8));

    Reply ended = b.http().send("GET", "/node/flow-runs/" + inFlight + "/?wait=10", null, "X-API-Key", key);
    assertThat(ended.data().getString("status")).isEqualTo("completed");
    assertThat(ended.data().getInteger("flow_version")).isEqualTo(1);
    assertThat(ended.data().getJsonObject("output_data")).isEqualTo(new JsonObject().put("version", 1).put("n", 7));

    Map<String, Integer> recorded = new HashMap<>();
    String freshId = fresh.data().getString("flow_run_id");
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> {
      recorded.clear();
      List<UUID> ids = List.of(UUID.fromString(inFlight), UUID.fromString(freshId));
      for (Row row : await(a.gateway().pool()
          .preparedQuery("SELECT id, flow_version FROM run_history WHERE id = ANY($1) AND status = 'completed'")
          .execute(Tuple.tuple().addArrayOfUUID(ids.toArray(new UUID[0]))))) {
        recorded.put(row.getUUID("id").toString(), row.getInteger("flow_version"));
      }
      return recorded.size() == 2;
    });
    assertThat(recorded).containsEntry(inFlight, 1).containsEntry(freshId, 2);
  }

  @Test
  void a_delete_refuses_new_triggers_at_once_while_a_run_in_flight_ends() {
    String flow = createFlow(a.http(), versionedFlow("doomed", 1, 1500));
    JsonObject d = createDeployment(a.http(), new JsonObject().put("flow_id", flow).put("deployment_type", "api"));
    String id = d.getString("id");
    String key = d.getString("api_key");
    String body = "{\"input_data\": {\"n\": 3}}";
    // Both nodes have the deployment cached.
    assertThat(b.http().trigger(id, profileKey, body, "Prefer", "respond-async").status()).isEqualTo(202);
    Reply accepted = a.http().trigger(id, key, body, "Prefer", "respond-async");
    assertThat(accepted.status()).isEqualTo(202);
    String inFlight = accepted.data().getString("flow_run_id");

    assertThat(a.http().admin("DELETE", "/api/v1/deployments/" + id, null, ControlPlane.TOKEN).status())
        .isEqualTo(204);
    Reply refused = a.http().trigger(id, profileKey, body);
    assertThat(refused.status()).isEqualTo(404);
    assertThat(problemCode(refused)).isEqualTo("deployment_not_found");
    // The deployment's own keys went with it: they are deleted keys now.
    Reply ownKey = a.http().trigger(id, key, body);
    assertThat(ownKey.status()).isEqualTo(401);
    assertThat(problemCode(ownKey)).isEqualTo("invalid_api_key");
    Awaitility.await().atMost(PROPAGATION).pollInterval(Duration.ofMillis(20))
        .until(() -> b.http().trigger(id, profileKey, body).status() == 404);

    Reply running = a.http().send("GET", "/node/flow-runs/" + inFlight + "/", null, "X-API-Key", profileKey);
    assertThat(running.data().getString("status")).as("in flight during the delete").isIn("queued", "running");
    Reply ended = b.http().send("GET", "/node/flow-runs/" + inFlight + "/?wait=10", null, "X-API-Key", profileKey);
    assertThat(ended.status()).isEqualTo(200);
    assertThat(ended.data().getString("status")).isEqualTo("completed");
    assertThat(ended.data().getJsonObject("output_data")).isEqualTo(new JsonObject().put("version", 1).put("n", 3));
  }
}
