package io.flowgate.deployments;

import io.vertx.core.json.JsonObject;

/** A deployment just created together with its first API key (shown once). Any thread. */
public record NewDeployment(Deployment deployment, NewApiKey firstKey) {
  /** The wire form: the deployment plus {@code api_key}, {@code api_key_id} and {@code api_key_masked}. */
  public JsonObject toJson() {
    return deployment.toJson()
        .put("api_key", firstKey.plainKey())
        .put("api_key_id", firstKey.key().id().toString())
        .put("api_key_masked", firstKey.key().masked());
  }
}
