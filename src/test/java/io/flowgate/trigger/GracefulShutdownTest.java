package io.flowgate.trigger;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.testsupport.GatewayUnderTest;
import io.flowgate.testsupport.TestHttp.Reply;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Stopping a node lets the requests it holds finish (within the grace period) and flushes the run history to
 * PostgreSQL before the clients close.
 */
class GracefulShutdownTest {
  @Test
  void in_flight_runs_finish_and_their_history_is_written_when_the_node_stops() throws Exception {
    GatewayUnderTest.Backing backing = GatewayUnderTest.Backing.fresh(GracefulShutdownTest.class);
    GatewayUnderTest node = GatewayUnderTest.start(backing, 1,
        Map.of("FLOWGATE_HTTP_SHUTDOWN_GRACE_SECONDS", "10", "FLOWGATE_RUNS_HISTORY_FLUSH_MS", "60000"));
    JsonObject flow = new JsonObject().put("name", "slowish")
        .put("nodes", new JsonArray()
            .add(new JsonObject().put("id", "input").put("type", "api_input"))
            .add(new JsonObject().put("id", "wait").put("type", "delay").put("config", new JsonObject().put("ms", 1500)))
            .add(new JsonObject().put("id", "output").put("type", "output")))
        .put("edges", new JsonArray()
            .add(new JsonObject().put("from", "input").put("to", "wait"))
            .add(new JsonObject().put("from", "wait").put("to", "output")));
    String flowId = node.http().admin("POST", "/api/v1/flows", flow, GatewayUnderTest.ADMIN_TOKEN).data()
        .getString("id");
    Reply server = node.http().admin("POST", "/api/v1/deployments", new JsonObject().put("flow_id", flowId)
        .put("deployment_type", "server"), GatewayUnderTest.ADMIN_TOKEN);
    Reply api = node.http().admin("POST", "/api/v1/deployments", new JsonObject().put("flow_id", flowId)
        .put("deployment_type", "api"), GatewayUnderTest.ADMIN_TOKEN);

    CompletableFuture<Reply> serverRun = CompletableFuture.supplyAsync(() -> node.http().trigger(
        server.data().getString("id"), server.data().getString("api_key"), "{\"input_data\": {\"k\": 1}}"));
    CompletableFuture<Reply> apiRun = CompletableFuture.supplyAsync(() -> node.http().trigger(
        api.data().getString("id"), api.data().getString("api_key"), "{\"input_data\": {\"k\": 2}}"));
    // Both requests are in flight (the delay is 1.5 s) when the node is told to stop.
    Thread.sleep(500);
    CompletableFuture<Void> closing = CompletableFuture.runAsync(node::close);

    Reply s = serverRun.get(20, TimeUnit.SECONDS);
    Reply a = apiRun.get(20, TimeUnit.SECONDS);
    assertThat(s.status()).as(s.toString()).isEqualTo(200);
    assertThat(a.status()).as(a.toString()).isEqualTo(200);
    closing.get(30, TimeUnit.SECONDS);

    // History was flushed on close even though the periodic flush (60 s) never ran.
    GatewayUnderTest reader = GatewayUnderTest.start(backing, 1, Map.of());
    try {
      var rows = reader.gateway().pool()
          .query("SELECT id::text, status, deployment_type FROM run_history ORDER BY created_at").execute()
          .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      java.util.List<String> ids = new java.util.ArrayList<>();
      for (Row row : rows) {
        assertThat(row.getString("status")).isEqualTo("completed");
        ids.add(row.getString("id"));
      }
      assertThat(ids).containsExactlyInAnyOrder(s.data().getString("flow_run_id"), a.data().getString("flow_run_id"));
    } finally {
      reader.close();
    }
  }
}
