package io.flowgate.trigger;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.testsupport.GatewayUnderTest;
import io.flowgate.testsupport.TestHttp;
import io.flowgate.testsupport.TestHttp.Reply;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Two nodes on one Redis and one PostgreSQL: an api-type run accepted by one node may run on either and its caller
 * gets the result; a change made through one node (a key deactivated) reaches the other's cache within a second.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClusterTest {
  private GatewayUnderTest a;
  private GatewayUnderTest b;
  private String apiDeployment;
  private String apiKey;
  private String apiKeyId;
  private String serverDeployment;

  @BeforeAll
  void start() {
    GatewayUnderTest.Backing backing = GatewayUnderTest.Backing.fresh(ClusterTest.class);
    a = GatewayUnderTest.start(backing, 1, Map.of("FLOWGATE_NODE_ID", "node-a"));
    b = GatewayUnderTest.start(backing, 1, Map.of("FLOWGATE_NODE_ID", "node-b"));
    JsonObject flow = new JsonObject().put("name", "where")
        .put("nodes", new JsonArray()
            .add(new JsonObject().put("id", "input").put("type", "api_input"))
            .add(new JsonObject().put("id", "wait").put("type", "delay").put("config", new JsonObject().put("ms", 20)))
            .add(new JsonObject().put("id", "output").put("type", "output")
                .put("config", new JsonObject().put("expression", "{\"n\": $input.n}"))))
        .put("edges", new JsonArray()
            .add(new JsonObject().put("from", "input").put("to", "wait"))
            .add(new JsonObject().put("from", "wait").put("to", "output")));
    TestHttp http = a.http();
    Reply created = http.admin("POST", "/api/v1/flows", flow, GatewayUnderTest.ADMIN_TOKEN);
    assertThat(created.status()).as(created.toString()).isEqualTo(201);
    String flowId = created.data().getString("id");
    Reply dep = http.admin("POST", "/api/v1/deployments", new JsonObject().put("flow_id", flowId)
        .put("deployment_type", "api"), GatewayUnderTest.ADMIN_TOKEN);
    apiDeployment = dep.data().getString("id");
    apiKey = dep.data().getString("api_key");
    apiKeyId = dep.data().getString("api_key_id");
    Reply server = http.admin("POST", "/api/v1/deployments", new JsonObject().put("flow_id", flowId)
        .put("deployment_type", "server"), GatewayUnderTest.ADMIN_TOKEN);
    serverDeployment = server.data().getString("id");
  }

  @AfterAll
  void stop() {
    GatewayUnderTest.closeAll(a, b);
  }

  @Test
  void api_runs_accepted_on_either_node_complete_and_are_polled_from_the_other() {
    Set<String> runs = new HashSet<>();
    for (int i = 0; i < 20; i++) {
      GatewayUnderTest accepting = i % 2 == 0 ? a : b;
      GatewayUnderTest polling = i % 2 == 0 ? b : a;
      Reply r = accepting.http().trigger(apiDeployment, apiKey, "{\"input_data\": {\"n\": " + i + "}}");
      assertThat(r.status()).as(r.toString()).isEqualTo(200);
      assertThat(r.data().getJsonObject("output_data").getInteger("n")).isEqualTo(i);
      String runId = r.data().getString("flow_run_id");
      runs.add(runId);
      Reply poll = polling.http().send("GET", "/node/flow-runs/" + runId + "/", null, "X-API-Key", apiKey);
      assertThat(poll.status()).isEqualTo(200);
      assertThat(poll.data().getString("status")).isEqualTo("completed");
    }
    assertThat(runs).hasSize(20);
  }

  @Test
  void runs_accepted_by_one_node_are_executed_by_both_nodes_workers() {
    // Both nodes consume the one queue; Redis hands each entry to whichever reads first. Triggering through node a
    // only, some runs must still be executed (and answered back to a) by node b: the run hash records the worker.
    Set<String> workers = new HashSet<>();
    for (int i = 0; i < 40 && workers.size() < 2; i++) {
      Reply r = a.http().trigger(apiDeployment, apiKey, "{\"input_data\": {\"n\": " + i + "}}");
      assertThat(r.status()).isEqualTo(200);
      String runId = r.data().getString("flow_run_id");
      String worker = a.gateway().redis().send(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.HGET)
              .arg(a.config().redis().keyPrefix() + "run:" + runId).arg("worker"))
          .toCompletionStage().toCompletableFuture().join().toString();
      workers.add(worker);
    }
    assertThat(workers).containsExactlyInAnyOrder("node-a", "node-b");
  }

  @Test
  void a_key_deactivated_through_one_node_is_refused_by_the_other_within_a_second() {
    assertThat(b.http().trigger(serverDeployment, apiKey, "{}").status()).isEqualTo(404);
    Reply key = a.http().admin("POST", "/api/v1/deployments/" + serverDeployment + "/api-keys",
        new JsonObject().put("name", "k"), GatewayUnderTest.ADMIN_TOKEN);
    assertThat(key.status()).as(key.toString()).isEqualTo(201);
    String k = key.data().getString("api_key");
    String kid = key.data().getString("api_key_id");
    assertThat(b.http().trigger(serverDeployment, k, "{}").status()).isEqualTo(200);
    assertThat(a.http().admin("POST", "/api/v1/api-keys/" + kid + "/deactivate", null,
        GatewayUnderTest.ADMIN_TOKEN).status()).isEqualTo(200);
    Awaitility.await().atMost(java.time.Duration.ofSeconds(1)).pollInterval(java.time.Duration.ofMillis(20))
        .until(() -> b.http().trigger(serverDeployment, k, "{}").status() == 401);
    assertThat(b.http().trigger(serverDeployment, k, "{}").json().getString("code")).isEqualTo("api_key_inactive");
  }
}
