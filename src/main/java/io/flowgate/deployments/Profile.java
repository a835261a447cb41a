package io.flowgate.deployments;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.UUID;

/** A profile: the owner of flows, deployments and keys. Immutable; any thread. */
public record Profile(UUID id, String name, Instant createdAt) {
  /** The id of the {@code default} profile, for which the bootstrap admin token acts. */
  public static final UUID DEFAULT_ID = new UUID(0L, 0L);

  /** The wire form. */
  public JsonObject toJson() {
    return new JsonObject()
        .put("id", id.toString())
        .put("name", name)
        .put("created_at", createdAt == null ? null : createdAt.toString());
  }
}
