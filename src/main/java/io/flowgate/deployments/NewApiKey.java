package io.flowgate.deployments;

import io.vertx.core.json.JsonObject;

/** An API key just created, with the key in plain text (shown once, never stored or logged). Any thread. */
public record NewApiKey(ApiKey key, String plainKey) {
  /** The wire form: the stored key plus {@code api_key}, {@code api_key_id} and {@code api_key_masked}. */
  public JsonObject toJson() {
    return key.toJson()
        .put("api_key", plainKey)
        .put("api_key_id", key.id().toString())
        .put("api_key_masked", key.masked());
  }

  @Override
  public String toString() {
    return "NewApiKey[key=" + key.id() + ", plainKey=<hidden>]";
  }
}
