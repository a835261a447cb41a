package io.flowgate.inference;

import static io.flowgate.flow.FlowFixtures.assertInvalid;
import static io.flowgate.flow.FlowFixtures.chain;
import static io.flowgate.flow.FlowFixtures.compile;
import static io.flowgate.flow.FlowFixtures.flow;
import static io.flowgate.flow.FlowFixtures.node;
import static io.flowgate.flow.FlowFixtures.offlineTypes;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.flow.FlowExecutor;
import io.flowgate.flow.FlowFixtures;
import io.flowgate.flow.FlowOutcome;
import io.flowgate.flow.FlowPlan;
import io.flowgate.flow.NodeServices;
import io.flowgate.flow.NodeTypes;
import io.flowgate.flow.RunControl;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The {@code inference} node type without a database: SPI registration, config validation at compile time, the
 * server ids the control plane checks, and the run-time refusals that need no server.
 */
@ExtendWith(VertxExtension.class)
class InferenceNodeTypeTest {
  private static final String SERVER = "7d2f6c1e-3b8a-4c5e-9f10-2a4b6c8d0e1f";

  private static JsonObject scoreFlow(JsonObject config) {
    return flow(new JsonArray().add(node("input", "api_input")).add(node("score", "inference", config))
        .add(node("output", "output")), chain("input", "score", "output"));
  }

  @Test
  void the_spi_registers_the_inference_type_beside_the_builtins() {
    assertThat(offlineTypes().get("inference")).isInstanceOf(InferenceNodeType.class);
    assertThat(offlineTypes().get("transform")).isNotNull();
  }

  @Test
  void a_valid_config_compiles_with_input_defaulting_to_the_predecessors_output() throws Exception {
    assertThat(compile(offlineTypes(), scoreFlow(new JsonObject().put("inference_server_id", SERVER)))).isNotNull();
    assertThat(compile(offlineTypes(), scoreFlow(new JsonObject().put("inference_server_id", SERVER)
        .put("input", "{\"features\": [a, b]}")))).isNotNull();
  }

  @Test
  void bad_configs_are_refused_naming_the_node_and_field() {
    NodeTypes types = offlineTypes();
    assertInvalid(types, scoreFlow(new JsonObject()))
        .hasMessageStartingWith("node 'score': \"inference_server_id\" is required");
    assertInvalid(types, scoreFlow(new JsonObject().put("inference_server_id", "7d2f6c1e")))
        .hasMessageContaining("\"inference_server_id\" is required: the id (a UUID)");
    assertInvalid(types, scoreFlow(new JsonObject().put("inference_server_id", SERVER).put("timeout_ms", 5)))
        .hasMessage("node 'score': unknown config field \"timeout_ms\" (allowed: input, inference_server_id)");
    assertInvalid(types, scoreFlow(new JsonObject().put("inference_server_id", SERVER).put("input", true)))
        .hasMessage("node 'score': \"input\" must be a string (a JSONata expression)");
    assertInvalid(types, scoreFlow(new JsonObject().put("inference_server_id", SERVER).put("input", "$.(")))
        .hasMessageStartingWith("node 'score': invalid JSONata expression in input");
  }

  @Test
  void server_ids_are_read_from_the_inference_nodes_only() {
    JsonObject def = scoreFlow(new JsonObject().put("inference_server_id", SERVER));
    def.getJsonArray("nodes").add(node("other", "transform", new JsonObject().put("inference_server_id", SERVER)))
        .add(node("second", "inference", new JsonObject().put("inference_server_id", SERVER.toUpperCase())));
    assertThat(InferenceNodeType.serverIds(def)).containsExactly(Map.entry("score", UUID.fromString(SERVER)),
        Map.entry("second", UUID.fromString(SERVER)));
    assertThat(InferenceNodeType.serverIds(new JsonObject().put("nodes", "x"))).isEmpty();
  }

  @Test
  void a_gateway_without_a_runtime_fails_the_node_at_run_time(Vertx vertx, VertxTestContext tc) throws Exception {
    NodeServices services = FlowFixtures.services(vertx);
    FlowPlan plan = compile(NodeTypes.load(services), scoreFlow(new JsonObject().put("inference_server_id",
        SERVER)));
    FlowExecutor executor = new FlowExecutor(services);
    vertx.getOrCreateContext().runOnContext(v -> executor.execute(plan, new JsonObject(), new RunControl(),
            UUID.randomUUID())
        .onComplete(tc.succeeding(r -> tc.verify(() -> {
          assertThat(r.outcome()).isEqualTo(FlowOutcome.FAILED);
          assertThat(r.error().getString("node_id")).isEqualTo("score");
          assertThat(r.error().getString("message")).contains("no inference runtime");
          tc.completeNow();
        }))));
  }

  @Test
  void a_run_without_a_profile_cannot_call_a_server(Vertx vertx, VertxTestContext tc) throws Exception {
    InferenceServers runtime = new InferenceServers(vertx, new InferenceServerRepository(null),
        RuntimeFixture.quick());
    NodeServices services = FlowFixtures.services(vertx).with(InferenceServers.class, runtime);
    FlowPlan plan = compile(NodeTypes.load(services), scoreFlow(new JsonObject().put("inference_server_id",
        SERVER)));
    FlowFixtures.verify(tc, FlowFixtures.run(vertx, new FlowExecutor(services), plan, new JsonObject(), null), r -> {
      runtime.close();
      assertThat(r.outcome()).isEqualTo(FlowOutcome.FAILED);
      assertThat(r.error().getString("node_id")).isEqualTo("score");
      assertThat(r.error().getString("message")).contains("runs only in a run of a deployment");
    });
  }
}
