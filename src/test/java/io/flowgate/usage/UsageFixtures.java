package io.flowgate.usage;

import static io.flowgate.testsupport.ControlPlane.createDeployment;
import static io.flowgate.testsupport.ControlPlane.createFlow;
import static io.flowgate.testsupport.ControlPlane.versionedFlow;

import io.flowgate.testsupport.TestHttp;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** Deployments and lookups shared by the usage tests. */
final class UsageFixtures {
  private UsageFixtures() {
  }

  /** A deployment ({@code type}, {@code mode}) of a flow that waits {@code delayMs}; as created (with its first key). */
  static JsonObject deployDelay(TestHttp http, String name, int delayMs, String type, String mode) {
    String flow = createFlow(http, versionedFlow(name, 1, delayMs));
    return createDeployment(http, new JsonObject().put("flow_id", flow).put("deployment_type", type)
        .put("execution_mode", mode));
  }

  /** The entry of key {@code id} in a usage answer's {@code keys}. */
  static JsonObject byId(JsonArray keys, String id) {
    for (int i = 0; i < keys.size(); i++) {
      if (id.equals(keys.getJsonObject(i).getString("api_key_id"))) {
        return keys.getJsonObject(i);
      }
    }
    throw new AssertionError("no usage of key " + id + " in " + keys.encode());
  }
}
