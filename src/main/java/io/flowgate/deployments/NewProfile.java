package io.flowgate.deployments;

import io.vertx.core.json.JsonObject;

/** A profile just created, with its management token in plain text (shown once, never stored). Any thread. */
public record NewProfile(Profile profile, String token) {
  /** The wire form: the profile plus {@code "token": "mt-…"}. */
  public JsonObject toJson() {
    return profile.toJson().put("token", token);
  }

  @Override
  public String toString() {
    return "NewProfile[profile=" + profile + ", token=<hidden>]";
  }
}
