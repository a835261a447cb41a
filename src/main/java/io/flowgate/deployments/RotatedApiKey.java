package io.flowgate.deployments;

import io.vertx.core.json.JsonObject;

/**
 * The result of a rotation: the replacement key (shown once, in plain text) and the rotated key as it now is, with
 * the end of its overlap as {@code expires_at}. Any thread.
 */
public record RotatedApiKey(NewApiKey replacement, ApiKey retired) {
  /** The wire form: the new key as a creation returns it, plus {@code rotated_key}, the old one masked. */
  public JsonObject toJson() {
    return replacement.toJson().put("rotated_key", retired.toJson());
  }
}
