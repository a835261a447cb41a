package io.flowgate.deployments;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.UUID;

/**
 * A stored API key: its SHA-256 hash and masked form, never the key itself. {@code deploymentId} is null for a
 * profile-wide key; {@code expiresAt} null for a key that does not expire; {@code replacedBy} the key a rotation made
 * to replace this one (whose {@code expiresAt} then ends the overlap). {@code lastUsedAt} is kept to the minute.
 * Immutable; any thread.
 */
public record ApiKey(UUID id, UUID profileId, UUID deploymentId, byte[] hash, String masked, String name,
    boolean active, Instant expiresAt, Instant createdAt, Instant lastUsedAt, UUID replacedBy) {

  /** Whether the key may be used at {@code now}: active and not expired. */
  public boolean usableAt(Instant now) {
    return active && (expiresAt == null || now.isBefore(expiresAt));
  }

  /** Whether the key may call {@code deployment}: same profile, and scoped to it or profile-wide. */
  public boolean mayCall(Deployment deployment) {
    return profileId.equals(deployment.profileId())
        && (deploymentId == null || deploymentId.equals(deployment.id()));
  }

  /** The wire form for lists: masked, never the hash. */
  public JsonObject toJson() {
    return new JsonObject()
        .put("id", id.toString())
        .put("name", name)
        .put("key", masked)
        .put("deployment_id", deploymentId == null ? null : deploymentId.toString())
        .put("scope", deploymentId == null ? "profile" : "deployment")
        .put("active", active)
        .put("expires_at", expiresAt == null ? null : expiresAt.toString())
        .put("created_at", createdAt == null ? null : createdAt.toString())
        .put("last_used_at", lastUsedAt == null ? null : lastUsedAt.toString())
        .put("replaced_by", replacedBy == null ? null : replacedBy.toString());
  }
}
