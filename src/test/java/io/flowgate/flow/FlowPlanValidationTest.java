package io.flowgate.flow;

import static io.flowgate.flow.FlowFixtures.assertInvalid;
import static io.flowgate.flow.FlowFixtures.chain;
import static io.flowgate.flow.FlowFixtures.compile;
import static io.flowgate.flow.FlowFixtures.edge;
import static io.flowgate.flow.FlowFixtures.flow;
import static io.flowgate.flow.FlowFixtures.node;
import static io.flowgate.flow.FlowFixtures.transform;
import static io.flowgate.flow.FlowFixtures.transformFlow;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class FlowPlanValidationTest {

  private final NodeTypes types = FlowFixtures.offlineTypes();

  private FlowValidationException invalid(JsonObject flow) {
    return catchThrowableOfType(FlowValidationException.class, () -> compile(types, flow));
  }

  private static JsonArray nodes(JsonObject... nodes) {
    JsonArray a = new JsonArray();
    for (JsonObject n : nodes) {
      a.add(n);
    }
    return a;
  }

  private static JsonObject inputOutputWith(JsonObject middle) {
    return flow(nodes(node("input", "api_input"), middle, node("output", "output")),
        chain("input", middle.getString("id"), "output"));
  }

  @Test
  void compiles_the_design_example() throws Exception {
    JsonObject flow = new JsonObject("""
        {"name": "score-customer",
         "nodes": [
           {"id": "input",  "type": "api_input", "config": {"test_data": {"param1": "value1"},
                                                            "schema": {"type": "object"}}},
           {"id": "shape",  "type": "transform", "config": {"expression": "{'p': param1}"}},
           {"id": "output", "type": "output",    "config": {}}],
         "edges": [{"from": "input", "to": "shape"}, {"from": "shape", "to": "output"}]}""");
    FlowPlan plan = compile(types, flow);
    assertThat(plan.testData()).isEqualTo(new JsonObject().put("param1", "value1"));
    assertThat(plan.inputSchema()).isEqualTo(new JsonObject().put("type", "object"));
    assertThat(plan.definition().name()).isEqualTo("score-customer");
  }

  @Test
  void refuses_an_unknown_type_naming_the_node() {
    FlowValidationException e = invalid(inputOutputWith(node("shape", "transfrom")));
    assertThat(e.nodeId()).isEqualTo("shape");
    assertThat(e.getMessage()).startsWith("node 'shape': unknown type 'transfrom'").contains("transform");
  }

  @Test
  void refuses_an_edge_to_a_missing_node() {
    JsonObject flow = transformFlow("$");
    flow.getJsonArray("edges").add(edge("shape", "zz"));
    FlowValidationException e = invalid(flow);
    assertThat(e.getMessage()).isEqualTo("edge from 'shape' to 'zz': node 'zz' does not exist");
    assertThat(e.nodeId()).isEqualTo("shape");
  }

  @Test
  void refuses_an_edge_from_a_missing_node() {
    JsonObject flow = transformFlow("$");
    flow.getJsonArray("edges").add(edge("ghost", "output"));
    assertThat(invalid(flow).getMessage()).isEqualTo("edge from 'ghost' to 'output': node 'ghost' does not exist");
  }

  @Test
  void refuses_a_cycle_and_spells_it_out() {
    JsonObject flow = flow(nodes(node("input", "api_input"), transform("a", "$"), transform("b", "$"),
        node("output", "output")), chain("input", "a", "b", "output").add(edge("b", "a")));
    FlowValidationException e = invalid(flow);
    assertThat(e.getMessage()).isEqualTo("cycle: a -> b -> a");
    assertThat(e.nodeId()).isEqualTo("a");
  }

  @Test
  void refuses_a_self_loop_as_a_cycle() {
    JsonObject flow = transformFlow("$");
    flow.getJsonArray("edges").add(edge("shape", "shape"));
    assertThat(invalid(flow).getMessage()).isEqualTo("cycle: shape -> shape");
  }

  @Test
  void refuses_a_flow_without_api_input() {
    JsonObject flow = flow(nodes(transform("shape", "$"), node("output", "output")), chain("shape", "output"));
    FlowValidationException e = invalid(flow);
    assertThat(e.getMessage()).isEqualTo("flow must have exactly one api_input node (found 0)");
    assertThat(e.nodeId()).isNull();
  }

  @Test
  void refuses_two_api_inputs_naming_them() {
    JsonObject flow = flow(nodes(node("in1", "api_input"), node("in2", "api_input"), node("output", "output")),
        chain("in1", "output").add(edge("in2", "output")));
    assertThat(invalid(flow).getMessage())
        .isEqualTo("flow must have exactly one api_input node (found 2: 'in1', 'in2')");
  }

  @Test
  void refuses_a_flow_without_output() {
    JsonObject flow = flow(nodes(node("input", "api_input"), transform("shape", "$")), chain("input", "shape"));
    assertThat(invalid(flow).getMessage()).isEqualTo("flow must have exactly one output node (found 0)");
  }

  @Test
  void refuses_two_outputs() {
    JsonObject flow = flow(nodes(node("input", "api_input"), node("o1", "output"), node("o2", "output")),
        chain("input", "o1").add(edge("input", "o2")));
    assertThat(invalid(flow).getMessage()).isEqualTo("flow must have exactly one output node (found 2: 'o1', 'o2')");
  }

  @Test
  void refuses_an_invalid_jsonata_expression_naming_the_node() {
    FlowValidationException e = invalid(transformFlow("{'a': "));
    assertThat(e.nodeId()).isEqualTo("shape");
    assertThat(e.getMessage()).startsWith("node 'shape': invalid JSONata expression: ");
  }

  @Test
  void refuses_a_transform_without_expression() {
    assertThat(invalid(inputOutputWith(node("shape", "transform"))).getMessage())
        .isEqualTo("node 'shape': \"expression\" is required (a non-empty string)");
  }

  @Test
  void refuses_an_unknown_config_field() {
    assertThat(invalid(inputOutputWith(node("shape", "transform", new JsonObject().put("expresion", "$"))))
        .getMessage()).isEqualTo("node 'shape': unknown config field \"expresion\" (allowed: expression)");
  }

  @Test
  void refuses_condition_edges_without_when() {
    JsonObject flow = flow(nodes(node("input", "api_input"),
        node("check", "condition", new JsonObject().put("expression", "x > 1")), node("output", "output")),
        chain("input", "check", "output"));
    FlowValidationException e = invalid(flow);
    assertThat(e.nodeId()).isEqualTo("check");
    assertThat(e.getMessage()).isEqualTo(
        "edge from 'check' to 'output': edges leaving condition node 'check' need \"when\": true or false");
  }

  @Test
  void refuses_when_on_edges_not_leaving_a_condition() {
    JsonObject flow = flow(nodes(node("input", "api_input"), transform("shape", "$"), node("output", "output")),
        new JsonArray().add(edge("input", "shape", true)).add(edge("shape", "output")));
    assertThat(invalid(flow).getMessage())
        .isEqualTo("edge from 'input' to 'shape': \"when\" is only allowed on edges leaving a condition node");
  }

  @Test
  void refuses_a_when_that_is_not_a_boolean() {
    JsonObject flow = transformFlow("$");
    flow.getJsonArray("edges").getJsonObject(0).put("when", "yes");
    assertThat(invalid(flow).getMessage()).isEqualTo("edge from 'input' to 'shape': \"when\" must be true or false");
  }

  @Test
  void refuses_an_invalid_json_schema() {
    JsonObject flow = transformFlow("$");
    flow.getJsonArray("nodes").getJsonObject(0)
        .put("config", new JsonObject().put("schema", new JsonObject().put("type", "objekt")));
    FlowValidationException e = invalid(flow);
    assertThat(e.nodeId()).isEqualTo("input");
    assertThat(e.getMessage()).startsWith("node 'input': invalid JSON schema: /type");
  }

  @Test
  void refuses_a_schema_with_a_dangling_ref() {
    JsonObject flow = transformFlow("$");
    flow.getJsonArray("nodes").getJsonObject(0).put("config", new JsonObject()
        .put("schema", new JsonObject().put("$ref", "#/$defs/missing")));
    assertThat(invalid(flow).getMessage()).startsWith("node 'input': invalid JSON schema: ");
  }

  @Test
  void refuses_test_data_that_is_not_an_object() {
    JsonObject flow = transformFlow("$");
    flow.getJsonArray("nodes").getJsonObject(0).put("config", new JsonObject().put("test_data", 5));
    assertThat(invalid(flow).getMessage()).isEqualTo("node 'input': \"test_data\" must be an object");
  }

  @Test
  void refuses_nodes_unreachable_from_api_input_naming_them() {
    JsonObject flow = flow(nodes(node("input", "api_input"), transform("shape", "$"), transform("orphan", "1"),
        transform("orphan2", "2"), node("output", "output")),
        chain("input", "shape", "output").add(edge("orphan", "orphan2")));
    FlowValidationException e = invalid(flow);
    assertThat(e.getMessage()).isEqualTo("nodes 'orphan', 'orphan2' are not reachable from api_input node 'input'");
    assertThat(e.nodeId()).isEqualTo("orphan");
  }

  @Test
  void refuses_an_output_not_connected() {
    JsonObject flow = flow(nodes(node("input", "api_input"), node("output", "output")), new JsonArray());
    assertThat(invalid(flow).getMessage()).isEqualTo("node 'output' is not reachable from api_input node 'input'");
  }

  @Test
  void refuses_edges_into_api_input_and_out_of_output() {
    JsonObject into = transformFlow("$");
    into.getJsonArray("edges").add(edge("shape", "input"));
    assertThat(invalid(into).getMessage())
        .isEqualTo("edge from 'shape' to 'input': api_input node 'input' cannot have incoming edges");
    JsonObject outOf = flow(nodes(node("input", "api_input"), transform("shape", "$"), node("output", "output")),
        chain("input", "output", "shape"));
    assertThat(invalid(outOf).getMessage())
        .isEqualTo("edge from 'output' to 'shape': output node 'output' cannot have outgoing edges");
  }

  @Test
  void refuses_a_duplicate_edge() {
    JsonObject flow = transformFlow("$");
    flow.getJsonArray("edges").add(edge("input", "shape"));
    assertThat(invalid(flow).getMessage()).isEqualTo("edge from 'input' to 'shape': duplicate edge");
  }

  @Test
  void refuses_a_delay_whose_ms_is_not_a_non_negative_integer() {
    for (Object ms : new Object[] {-1, 1.5, "100", null}) {
      JsonObject config = new JsonObject().put("ms", ms);
      assertThat(invalid(inputOutputWith(node("wait", "delay", config))).getMessage())
          .as("ms = %s", ms)
          .isEqualTo("node 'wait': \"ms\" must be a non-negative integer");
    }
  }

  @Test
  void accepts_a_delay_of_integral_ms() throws Exception {
    compile(types, inputOutputWith(node("wait", "delay", new JsonObject().put("ms", 2.0))));
    compile(types, inputOutputWith(node("wait", "delay", new JsonObject().put("ms", 0))));
  }

  @Test
  void refuses_http_request_problems_naming_the_node() {
    assertThat(invalid(inputOutputWith(node("call", "http_request", new JsonObject().put("url", "http://x/"))))
        .getMessage()).isEqualTo("node 'call': http_request needs an HTTP client, but none is configured");
    NodeTypes withHttp = FlowFixtures.offlineTypesWithHttp();
    assertInvalid(withHttp, inputOutputWith(node("call", "http_request", new JsonObject())))
        .hasMessage("node 'call': \"url\" is required (a non-empty string)");
    assertInvalid(withHttp, inputOutputWith(node("call", "http_request", new JsonObject().put("url", "ftp://x/"))))
        .hasMessage("node 'call': invalid \"url\": 'ftp://x/' must be an absolute http:// or https:// URL");
    assertInvalid(withHttp, inputOutputWith(node("call", "http_request",
        new JsonObject().put("url", "http://x/").put("method", "FETCH"))))
        .hasMessageStartingWith("node 'call': unsupported \"method\" 'FETCH'");
    assertInvalid(withHttp, inputOutputWith(node("call", "http_request",
        new JsonObject().put("url", "http://x/").put("timeout_ms", 0))))
        .hasMessage("node 'call': \"timeout_ms\" must be a positive integer");
    assertInvalid(withHttp, inputOutputWith(node("call", "http_request",
        new JsonObject().put("url", "=$input.(").put("method", "POST"))))
        .hasMessageStartingWith("node 'call': invalid JSONata expression in url: ");
    assertInvalid(withHttp, inputOutputWith(node("call", "http_request",
        new JsonObject().put("url", "http://x/").put("body", new JsonObject().put("a", "=1 +")))))
        .hasMessageStartingWith("node 'call': invalid JSONata expression in body.a: ");
  }

  @Test
  void refuses_a_custom_type_config_error_with_its_own_message() {
    assertThat(invalid(inputOutputWith(node("up", "test_uppercase"))).getMessage())
        .isEqualTo("node 'up': \"field\" is required");
  }

  @Test
  void refuses_bad_shapes_in_from_json() {
    assertThat(catchThrowableOfType(FlowValidationException.class,
        () -> FlowDefinition.fromJson(new JsonObject().put("name", "").put("nodes", new JsonArray())
            .put("edges", new JsonArray()))).getMessage()).isEqualTo("flow \"name\" must be a non-empty string");
    assertThat(catchThrowableOfType(FlowValidationException.class,
        () -> FlowDefinition.fromJson(new JsonObject().put("name", "f").put("nodes", new JsonObject())
            .put("edges", new JsonArray()))).getMessage()).isEqualTo("flow \"nodes\" must be an array");
    assertThat(catchThrowableOfType(FlowValidationException.class,
        () -> FlowDefinition.fromJson(new JsonObject().put("name", "f").put("nodes", new JsonArray())))
        .getMessage()).isEqualTo("flow \"edges\" must be an array");
    assertThat(catchThrowableOfType(FlowValidationException.class,
        () -> FlowDefinition.fromJson(flow(nodes(node("a", "api_input"), node("a", "output")), new JsonArray())))
        .getMessage()).isEqualTo("node 'a': duplicate node id");
    assertThat(catchThrowableOfType(FlowValidationException.class,
        () -> FlowDefinition.fromJson(flow(nodes(new JsonObject().put("id", "").put("type", "output")),
            new JsonArray()))).getMessage()).isEqualTo("nodes[0]: \"id\" must be a non-empty string");
    assertThat(catchThrowableOfType(FlowValidationException.class,
        () -> FlowDefinition.fromJson(flow(nodes(node("a", "api_input")), new JsonArray().add(
            new JsonObject().put("from", "a"))))).getMessage())
        .isEqualTo("edges[0]: \"from\" and \"to\" must be non-empty strings");
  }

  @Test
  void round_trips_a_definition_through_json() throws Exception {
    JsonObject flow = flow(nodes(node("input", "api_input"),
        node("check", "condition", new JsonObject().put("expression", "x > 1")), node("output", "output")),
        new JsonArray().add(edge("input", "check")).add(edge("check", "output", true)));
    FlowDefinition def = FlowDefinition.fromJson(flow);
    assertThat(FlowDefinition.fromJson(def.toJson())).isEqualTo(def);
    assertThat(def.toJson().getJsonArray("nodes").getJsonObject(0).getJsonObject("config"))
        .isEqualTo(new JsonObject());
    assertThat(def.edges().get(1).when()).isTrue();
  }
}
