package io.flowgate.deployments;

import io.vertx.core.json.JsonObject;

/**
 * A deployment as a PATCH left it and, when the PATCH gave it its first webhook, the signing secret made for it
 * (shown once). Any thread.
 */
public record SavedDeployment(Deployment deployment, String webhookSecret) {
  /** The wire form: the deployment, plus {@code webhook_secret} when one was made. */
  public JsonObject toJson() {
    JsonObject json = deployment.toJson();
    if (webhookSecret != null) {
      json.put("webhook_secret", webhookSecret);
    }
    return json;
  }
}
