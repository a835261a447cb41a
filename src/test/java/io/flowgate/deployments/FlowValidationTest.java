package io.flowgate.deployments;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.flow.NodeTypes;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class FlowValidationTest {
  private static NodeTypes nodeTypes;

  @BeforeAll
  static void loadNodeTypes(Vertx vertx) {
    nodeTypes = DbFixture.nodeTypes(vertx);
  }

  private static GatewayException refusal(JsonObject flow) {
    return catchThrowableOfType(GatewayException.class, () -> FlowValidation.definition(flow, nodeTypes));
  }

  @Test
  void accepts_a_valid_flow_and_drops_read_only_members() {
    JsonObject body = SampleFlows.greeting("ok").put("id", "x").put("version", 3).put("created_at", "then");
    JsonObject definition = FlowValidation.definition(body, nodeTypes);
    assertThat(definition.fieldNames()).containsExactlyInAnyOrder("name", "nodes", "edges");
  }

  @Test
  void refuses_a_flow_without_a_name_as_invalid_request() {
    JsonObject flow = SampleFlows.greeting("x");
    flow.remove("name");
    assertThat(refusal(flow).code()).isEqualTo(ErrorCode.INVALID_REQUEST);
    assertThat(refusal(flow).detail()).contains("name");
  }

  @Test
  void refuses_two_api_inputs_naming_the_rule() {
    GatewayException e = refusal(SampleFlows.twoApiInputs());
    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_FLOW);
    assertThat(e.detail()).contains("api_input");
    assertThat(e.details()).hasSize(1);
  }

  @Test
  void refuses_a_flow_without_an_api_input() {
    GatewayException e = refusal(SampleFlows.noApiInput());
    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_FLOW);
    assertThat(e.detail()).contains("api_input");
  }

  @Test
  void refuses_a_cycle_naming_a_node_on_it() {
    GatewayException e = refusal(SampleFlows.cycle());
    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_FLOW);
    assertThat(e.detail()).contains("cycle").contains("a -> b");
  }

  @Test
  void refuses_an_unknown_type_naming_the_node() {
    GatewayException e = refusal(SampleFlows.unknownType());
    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_FLOW);
    assertThat(e.detail()).contains("greet").contains("teleport");
    assertThat(e.details().getJsonObject(0).getString("node_id")).isEqualTo("greet");
  }

  @Test
  void refuses_a_dangling_edge_naming_the_missing_node() {
    GatewayException e = refusal(SampleFlows.danglingEdge());
    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_FLOW);
    assertThat(e.detail()).contains("ghost");
  }

  @Test
  void refuses_a_bad_expression_naming_the_node() {
    GatewayException e = refusal(SampleFlows.badExpression());
    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_FLOW);
    assertThat(e.detail()).contains("greet");
    assertThat(e.details().getJsonObject(0).getString("node_id")).isEqualTo("greet");
  }

  @Test
  void refuses_nodes_that_are_not_an_array() {
    JsonObject flow = SampleFlows.greeting("x").put("nodes", "oops");
    assertThat(refusal(flow).code()).isEqualTo(ErrorCode.INVALID_FLOW);
  }
}
