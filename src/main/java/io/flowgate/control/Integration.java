package io.flowgate.control;

import io.flowgate.deployments.DeploymentType;
import io.flowgate.deployments.ExecutionMode;
import io.vertx.core.json.JsonObject;
import java.util.UUID;

/**
 * What an integrator's artifact (example code, Postman collection, per-deployment OpenAPI document) says about one
 * deployment: where it is, how it runs, which (masked) key to show and what input to send. Immutable; any thread.
 *
 * @param maskedKey the masked form of a key that may call the deployment, or null when it has none
 * @param testData the API Input node's {@code test_data} ({@code {}} when it has none or the deployment has no flow)
 * @param inputSchema the API Input node's JSON Schema of {@code input_data} (an object or a boolean), or null
 * @param timeoutSeconds the run timeout that applies (the deployment's, else the gateway default)
 * @param rateLimited whether the deployment has a {@code rate_limit} (only then can a trigger answer 429)
 */
record Integration(UUID deploymentId, String name, ExecutionMode mode, DeploymentType type, Integer flowVersion,
    String baseUrl, String maskedKey, JsonObject testData, Object inputSchema, int timeoutSeconds,
    boolean rateLimited) {

  /** Stands in for the key in generated code when the deployment has no usable key. */
  static final String KEY_PLACEHOLDER = "<your sk-... API key>";

  /** The trigger path, with aicuflow's trailing slash. */
  String triggerPath() {
    return "/node/deployment-trigger/" + deploymentId + "/";
  }

  String triggerUrl() {
    return baseUrl + triggerPath();
  }

  /** The key as generated code shows it: masked (the user pastes the real one), or a placeholder. */
  String keyForCode() {
    return maskedKey != null ? maskedKey : KEY_PLACEHOLDER;
  }

  /** The request body the snippets and the collection send. */
  JsonObject triggerBody() {
    return new JsonObject().put("input_data", testData.copy());
  }
}
