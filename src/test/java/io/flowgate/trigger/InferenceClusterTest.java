package io.flowgate.trigger;

import static io.flowgate.testsupport.Futures.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.testsupport.FakeInferenceServer;
import io.flowgate.testsupport.GatewayUnderTest;
import io.flowgate.testsupport.TestHttp.Reply;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Inference server changes are cluster-wide: two nodes on one Redis and one PostgreSQL, a PATCH, a stop and a start
 * made through one node reach the other node's Fast Mode within a second (stored, then announced by LISTEN/NOTIFY).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InferenceClusterTest {
  private static final String ADMIN = GatewayUnderTest.ADMIN_TOKEN;
  private static final Duration WITHIN = Duration.ofSeconds(1);

  private GatewayUnderTest.Backing backing;
  private GatewayUnderTest a;
  private GatewayUnderTest b;
  private FakeInferenceServer first;
  private FakeInferenceServer second;

  @BeforeAll
  void start() {
    backing = GatewayUnderTest.Backing.fresh(InferenceClusterTest.class);
    a = GatewayUnderTest.start(backing, 1, Map.of("FLOWGATE_NODE_ID", "node-a",
        "FLOWGATE_INFERENCE_HEALTH_INTERVAL_MS", "100"));
    b = GatewayUnderTest.start(backing, 1, Map.of("FLOWGATE_NODE_ID", "node-b",
        "FLOWGATE_INFERENCE_HEALTH_INTERVAL_MS", "100"));
    first = FakeInferenceServer.start(a.vertx());
    second = FakeInferenceServer.start(a.vertx());
  }

  @AfterAll
  void stop() {
    if (first != null) {
      first.close();
      second.close();
    }
    GatewayUnderTest.closeAll(a, b);
  }

  /** A server on {@code url} and a fast deployment on it, made through node a: {server id, deployment id, key}. */
  private String[] fastDeployment(String url) {
    Reply server = a.http().admin("POST", "/api/v1/inference-servers", new JsonObject()
        .put("name", "shared-" + UUID.randomUUID().toString().substring(0, 6)).put("protocol", "passthrough")
        .put("replicas", new JsonArray().add(url)), ADMIN);
    assertThat(server.status()).as(server.toString()).isEqualTo(201);
    String serverId = server.data().getString("id");
    Reply d = a.http().admin("POST", "/api/v1/deployments", new JsonObject().put("execution_mode", "fast")
        .put("inference_server_id", serverId), ADMIN);
    assertThat(d.status()).as(d.toString()).isEqualTo(201);
    return new String[] {serverId, d.data().getString("id"), d.data().getString("api_key")};
  }

  private static Reply trigger(GatewayUnderTest node, String[] fast) {
    return node.http().trigger(fast[1], fast[2], "{\"input_data\": {\"x\": 1}}");
  }

  private static boolean stoppedAnswer(Reply r) {
    return r.status() == 503 && "inference_unavailable".equals(r.json().getString("code"))
        && r.json().getString("message").contains("is stopped");
  }

  @Test
  void a_stop_and_a_start_through_one_node_reach_the_other_within_a_second() {
    String[] fast = fastDeployment(first.url());
    assertThat(trigger(a, fast).status()).isEqualTo(200);
    assertThat(trigger(b, fast).status()).isEqualTo(200);

    Reply stopped = a.http().admin("POST", "/api/v1/inference-servers/" + fast[0] + "/stop", null, ADMIN);
    assertThat(stopped.status()).as(stopped.toString()).isEqualTo(200);
    assertThat(stoppedAnswer(trigger(a, fast))).isTrue();
    Awaitility.await("node b stops forwarding").atMost(WITHIN).pollInterval(Duration.ofMillis(20))
        .until(() -> stoppedAnswer(trigger(b, fast)));
    Reply read = b.http().admin("GET", "/api/v1/inference-servers/" + fast[0], null, ADMIN);
    assertThat(read.data().getString("desired_state")).isEqualTo("stopped");
    assertThat(read.data().getString("state")).isEqualTo("stopped");

    Reply started = b.http().admin("POST", "/api/v1/inference-servers/" + fast[0] + "/start", null, ADMIN);
    assertThat(started.status()).as(started.toString()).isEqualTo(200);
    assertThat(trigger(b, fast).status()).isEqualTo(200);
    Awaitility.await("node a forwards again").atMost(WITHIN).pollInterval(Duration.ofMillis(20))
        .until(() -> trigger(a, fast).status() == 200);
  }

  @Test
  void a_stop_made_while_the_nodes_were_not_listening_reaches_them_when_they_listen_again() {
    String[] fast = fastDeployment(first.url());
    assertThat(trigger(b, fast).status()).isEqualTo(200);
    Pool sql = PgBuilder.pool().connectingTo(backing.pgUrl()).using(a.vertx()).build();
    try {
      // Every node's change listener is cut, and the server is stopped behind their backs: that notice is lost.
      await(sql.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
          + "AND query LIKE 'LISTEN%'").execute());
      await(sql.query("UPDATE inference_servers SET desired_state = 'stopped', revision = revision + 1, "
          + "updated_at = now() WHERE id = '" + fast[0] + "'").execute());
      // Listening again, each node re-reads what it runs (not only at the 60 s safety-net re-read).
      Awaitility.await("node b reads the stop after reconnecting").atMost(Duration.ofSeconds(5))
          .pollInterval(Duration.ofMillis(50)).until(() -> stoppedAnswer(trigger(b, fast)));
    } finally {
      await(sql.close());
    }
  }

  @Test
  void a_node_that_never_ran_a_stopped_server_reads_it_stopped() {
    String[] fast = fastDeployment(first.url());
    assertThat(a.http().admin("POST", "/api/v1/inference-servers/" + fast[0] + "/stop", null, ADMIN).status())
        .isEqualTo(200);
    int before = first.predictions();
    assertThat(stoppedAnswer(trigger(b, fast))).isTrue();
    assertThat(first.predictions()).isEqualTo(before);
  }

  @Test
  void a_patch_through_one_node_reaches_the_other_within_a_second() {
    String[] fast = fastDeployment(first.url());
    assertThat(trigger(a, fast).status()).isEqualTo(200);
    assertThat(trigger(b, fast).status()).isEqualTo(200);
    int before = second.predictions();

    Reply patched = a.http().admin("PATCH", "/api/v1/inference-servers/" + fast[0], new JsonObject()
        .put("replicas", new JsonArray().add(second.url())).put("timeout_ms", 2000), ADMIN);
    assertThat(patched.status()).as(patched.toString()).isEqualTo(200);
    Awaitility.await("node b forwards to the new replica").atMost(WITHIN).pollInterval(Duration.ofMillis(20))
        .until(() -> {
          Reply r = trigger(b, fast);
          assertThat(r.status()).as(r.toString()).isEqualTo(200);
          return second.predictions() > before;
        });
    Reply read = b.http().admin("GET", "/api/v1/inference-servers/" + fast[0], null, ADMIN);
    assertThat(read.data().getInteger("timeout_ms")).isEqualTo(2000);
    assertThat(read.data().getJsonArray("replicas").getJsonObject(0).getString("url")).isEqualTo(second.url());
  }
}
