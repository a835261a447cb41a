package io.flowgate.deployments;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.UUID;

/**
 * A deployment: a flow version (or, in fast mode, an inference server) behind an authenticated endpoint. Immutable;
 * any thread. {@code timeoutSeconds} and {@code maxBodyBytes} are null when the gateway default applies.
 */
public record Deployment(UUID id, UUID profileId, UUID flowId, Integer flowVersion, String name,
    ExecutionMode executionMode, DeploymentType deploymentType, Integer timeoutSeconds, Integer maxBodyBytes,
    JsonObject rateLimit, JsonObject notification, UUID inferenceServerId, Instant createdAt, Instant updatedAt) {

  /** The wire form, as the control plane returns it. */
  public JsonObject toJson() {
    JsonObject json = new JsonObject()
        .put("id", id.toString())
        .put("name", name)
        .put("flow_id", flowId == null ? null : flowId.toString())
        .put("flow_version", flowVersion)
        .put("execution_mode", executionMode.wire())
        .put("deployment_type", deploymentType.wire())
        .put("timeout_seconds", timeoutSeconds)
        .put("max_body_bytes", maxBodyBytes)
        .put("rate_limit", rateLimit)
        .put("notification", notification == null ? new JsonObject().put("method", "none") : notification)
        .put("inference_server_id", inferenceServerId == null ? null : inferenceServerId.toString())
        .put("trigger_url", "/node/deployment-trigger/" + id + "/")
        .put("created_at", createdAt == null ? null : createdAt.toString())
        .put("updated_at", updatedAt == null ? null : updatedAt.toString());
    return json;
  }
}
