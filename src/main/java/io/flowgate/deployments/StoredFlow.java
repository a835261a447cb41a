package io.flowgate.deployments;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;

/**
 * A flow as stored: its latest (or a chosen) version and that version's definition ({@code name}, {@code nodes},
 * {@code edges} as in DESIGN §2.2). Immutable by convention (the definition is not copied); any thread.
 */
public record StoredFlow(UUID id, UUID profileId, String name, int version, JsonObject definition,
    Instant createdAt, Instant updatedAt) {

  /** The wire form {@code {id, name, version, nodes, edges, created_at, updated_at}}. */
  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("id", id.toString()).put("name", name);
    for (Map.Entry<String, Object> field : definition) {
      if (!json.containsKey(field.getKey())) {
        json.put(field.getKey(), field.getValue());
      }
    }
    return json
        .put("version", version)
        .put("created_at", createdAt == null ? null : createdAt.toString())
        .put("updated_at", updatedAt == null ? null : updatedAt.toString());
  }
}
