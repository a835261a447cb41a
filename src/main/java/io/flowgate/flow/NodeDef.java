package io.flowgate.flow;

import io.vertx.core.json.JsonObject;
import java.util.Objects;

/**
 * One node of a flow definition: its unique id, its type name and its type-specific config (never null; treat as
 * read-only). A value; usable on any thread.
 */
public record NodeDef(String id, String type, JsonObject config) {

  public NodeDef {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(type, "type");
    config = config == null ? new JsonObject() : config;
  }

  /** This node as JSON: {@code {"id", "type", "config"}} (a copy). */
  public JsonObject toJson() {
    return new JsonObject().put("id", id).put("type", type).put("config", config.copy());
  }
}
