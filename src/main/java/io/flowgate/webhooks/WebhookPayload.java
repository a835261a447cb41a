package io.flowgate.webhooks;

import io.vertx.core.json.JsonObject;
import java.util.Set;

/**
 * The body of a webhook (DESIGN §2.3): {@code {"type", "timestamp", "data": <the run as GET /node/flow-runs returns
 * it>}}. A {@code run.started} event shows the run as a poll did while it ran, even when it has ended since it was
 * relayed. Pure; any thread.
 */
final class WebhookPayload {
  private static final Set<String> TERMINAL = Set.of("completed", "failed", "timed_out", "cancelled");

  private WebhookPayload() {
  }

  /**
   * The payload of event {@code type} that happened {@code at} to run {@code runId}; {@code run} is its wire form
   * now, or null when neither store has it any more (then {@code data} holds what the event recorded).
   */
  static JsonObject of(String type, String at, String status, String runId, String deploymentId, JsonObject run) {
    JsonObject data = run != null ? run.copy() : new JsonObject()
        .put("flow_run_id", runId).put("deployment_id", deploymentId).put("status", status);
    if (WebhookEvents.STARTED.equals(type)) {
      data.put("status", "running");
      data.remove("output_data");
      data.remove("node_outputs");
      data.remove("error");
      data.putNull("duration_seconds");
      data.putNull("finished_at");
      if (data.getValue("started_at") == null) {
        data.put("started_at", at);
      }
    } else if (!TERMINAL.contains(data.getString("status"))) {
      data.put("status", status);
    }
    return new JsonObject().put("type", type).put("timestamp", at).put("data", data);
  }
}
