package io.flowgate.deployments;

import io.vertx.core.json.JsonObject;

/**
 * A deployment just created together with its first API key and, when it sends webhooks, its signing secret (both
 * shown once). Any thread.
 */
public record NewDeployment(Deployment deployment, NewApiKey firstKey, String webhookSecret) {
  public NewDeployment(Deployment deployment, NewApiKey firstKey) {
    this(deployment, firstKey, null);
  }

  /**
   * The wire form: the deployment plus {@code api_key}, {@code api_key_id} and {@code api_key_masked}, and
   * {@code webhook_secret} when one was made.
   */
  public JsonObject toJson() {
    JsonObject json = deployment.toJson()
        .put("api_key", firstKey.plainKey())
        .put("api_key_id", firstKey.key().id().toString())
        .put("api_key_masked", firstKey.key().masked());
    if (webhookSecret != null) {
      json.put("webhook_secret", webhookSecret);
    }
    return json;
  }
}
