package io.flowgate.flow;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/** A custom node type found through the SPI: outputs {@code {"profile": <the run's profile id or null>}}. */
public final class ProfileProbeTestNodeType implements NodeType {

  @Override
  public String type() {
    return "test_profile";
  }

  @Override
  public Node create(String nodeId, JsonObject config, NodeServices services) {
    return ctx -> Future.succeededFuture(new JsonObject()
        .put("profile", ctx.profileId() == null ? null : ctx.profileId().toString()));
  }
}
