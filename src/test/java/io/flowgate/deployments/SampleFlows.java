package io.flowgate.deployments;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** Flow definitions for tests: a valid greeting flow and one broken variant per validation rule. */
public final class SampleFlows {
  private SampleFlows() {
  }

  /** api_input → transform → output. */
  public static JsonObject greeting(String name) {
    return new JsonObject()
        .put("name", name)
        .put("nodes", new JsonArray()
            .add(node("input", "api_input", new JsonObject()
                .put("test_data", new JsonObject().put("name", "Ada"))
                .put("schema", new JsonObject().put("type", "object"))))
            .add(node("greet", "transform", new JsonObject()
                .put("expression", "{\"greeting\": \"Hello, \" & $.name & \"!\"}")))
            .add(node("output", "output", new JsonObject())))
        .put("edges", new JsonArray().add(edge("input", "greet")).add(edge("greet", "output")));
  }

  public static JsonObject twoApiInputs() {
    JsonObject flow = greeting("two-inputs");
    flow.getJsonArray("nodes").add(node("input2", "api_input", new JsonObject()));
    flow.getJsonArray("edges").add(edge("input2", "greet"));
    return flow;
  }

  public static JsonObject noApiInput() {
    return new JsonObject().put("name", "no-input")
        .put("nodes", new JsonArray()
            .add(node("greet", "transform", new JsonObject().put("expression", "$")))
            .add(node("output", "output", new JsonObject())))
        .put("edges", new JsonArray().add(edge("greet", "output")));
  }

  public static JsonObject cycle() {
    return new JsonObject().put("name", "cycle")
        .put("nodes", new JsonArray()
            .add(node("input", "api_input", new JsonObject()))
            .add(node("a", "transform", new JsonObject().put("expression", "$")))
            .add(node("b", "transform", new JsonObject().put("expression", "$")))
            .add(node("output", "output", new JsonObject())))
        .put("edges", new JsonArray().add(edge("input", "a")).add(edge("a", "b")).add(edge("b", "a"))
            .add(edge("b", "output")));
  }

  public static JsonObject unknownType() {
    JsonObject flow = greeting("unknown-type");
    flow.getJsonArray("nodes").getJsonObject(1).put("type", "teleport");
    return flow;
  }

  public static JsonObject danglingEdge() {
    JsonObject flow = greeting("dangling");
    flow.getJsonArray("edges").add(edge("greet", "ghost"));
    return flow;
  }

  public static JsonObject badExpression() {
    JsonObject flow = greeting("bad-expression");
    flow.getJsonArray("nodes").getJsonObject(1).getJsonObject("config").put("expression", "{\"a\": (1 + }");
    return flow;
  }

  static JsonObject node(String id, String type, JsonObject config) {
    return new JsonObject().put("id", id).put("type", type).put("config", config);
  }

  static JsonObject edge(String from, String to) {
    return new JsonObject().put("from", from).put("to", to);
  }
}
