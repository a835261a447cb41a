package io.flowgate.flow;

import static io.flowgate.flow.FlowFixtures.compile;
import static io.flowgate.flow.FlowFixtures.transformFlow;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

class InputValidationTest {

  private final NodeTypes types = FlowFixtures.offlineTypes();

  private FlowPlan withSchema(Object schema) throws Exception {
    JsonObject flow = transformFlow("$");
    flow.getJsonArray("nodes").getJsonObject(0).put("config", new JsonObject().put("schema", schema));
    return compile(types, flow);
  }

  @Test
  void lists_every_violating_field() throws Exception {
    FlowPlan plan = withSchema(new JsonObject("""
        {"type": "object", "required": ["param1", "count"],
         "properties": {"param1": {"type": "string"}, "count": {"type": "integer", "minimum": 1},
                        "tags": {"type": "array", "items": {"type": "string"}}}}"""));
    List<JsonObject> errors = plan.validateInput(new JsonObject("{\"param1\": 3, \"tags\": [\"a\", 2]}"));
    assertThat(errors).extracting(e -> e.getString("field")).containsExactlyInAnyOrder("/param1", "/count", "/tags/1");
    assertThat(errors).allSatisfy(e -> assertThat(e.getString("message")).isNotBlank());
    assertThat(errors).filteredOn(e -> e.getString("field").equals("/count"))
        .singleElement().satisfies(e -> assertThat(e.getString("message")).contains("count"));
  }

  @Test
  void accepts_valid_input() throws Exception {
    FlowPlan plan = withSchema(new JsonObject().put("type", "object")
        .put("properties", new JsonObject().put("n", new JsonObject().put("type", "number"))));
    assertThat(plan.validateInput(new JsonObject().put("n", 2.5))).isEmpty();
    assertThat(plan.validateInput(null)).isEmpty();
  }

  @Test
  void accepts_anything_without_a_schema() throws Exception {
    FlowPlan plan = compile(types, transformFlow("$"));
    assertThat(plan.inputSchema()).isNull();
    assertThat(plan.validateInput(new JsonObject().put("x", 1))).isEmpty();
    assertThat(plan.testData()).isEqualTo(new JsonObject());
  }

  @Test
  void validates_nested_vertx_json_values() throws Exception {
    FlowPlan plan = withSchema(new JsonObject("""
        {"properties": {"user": {"type": "object", "required": ["id"]}}}"""));
    assertThat(plan.validateInput(new JsonObject().put("user", new JsonObject().put("name", "x"))))
        .extracting(e -> e.getString("field")).containsExactly("/user/id");
  }

  @Test
  void treats_boolean_schemas_as_their_object_forms() throws Exception {
    assertThat(withSchema(true).validateInput(new JsonObject().put("x", 1))).isEmpty();
    FlowPlan never = withSchema(false);
    assertThat(never.validateInput(new JsonObject())).hasSize(1);
    assertThat(never.inputSchema()).isEqualTo(new JsonObject().put("not", new JsonObject()));
  }
}
