package io.flowgate.runs;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;

/**
 * One run of a deployment: who owns it, its status and, once terminal, its result. The wire form is what
 * {@code GET /node/flow-runs/{id}/} and the sync trigger return. {@code apiKeyId} is the API key whose trigger made
 * the run (for usage per key), null for a run recorded before runs kept it; it is never part of the wire form.
 * Immutable; any thread.
 */
public record Run(String id, UUID profileId, UUID deploymentId, UUID flowId, Integer flowVersion, String mode,
    String type, RunStatus status, Instant createdAt, Instant startedAt, Instant finishedAt, JsonObject outputData,
    JsonObject nodeOutputs, JsonObject error, UUID apiKeyId) {
  // What wire() writes for no output and no node outputs, as toWire() encodes them. Read-only: shared by all threads.
  private static final Buffer NULL = Buffer.buffer("null");
  private static final Buffer EMPTY = Buffer.buffer("{}");

  /** The run as clients see it (the {@code data} member of the envelope). */
  public JsonObject toWire() {
    JsonObject json = new JsonObject()
        .put("flow_run_id", id)
        .put("deployment_id", deploymentId.toString())
        .put("status", status.wire());
    if (flowVersion != null) {
      json.put("flow_version", flowVersion);
    }
    if (status.terminal()) {
      json.put("output_data", outputData);
      json.put("node_outputs", nodeOutputs == null ? new JsonObject() : nodeOutputs);
      if (error != null) {
        json.put("error", error);
      }
    }
    json.put("duration_seconds", durationSeconds())
        .put("created_at", createdAt == null ? null : Timestamps.format(createdAt))
        .put("started_at", startedAt == null ? null : Timestamps.format(startedAt))
        .put("finished_at", finishedAt == null ? null : Timestamps.format(finishedAt));
    return json;
  }

  /**
   * {@link #toWire()} encoded, with the result members given as they were encoded already ({@code null}: none): the
   * same bytes as {@code toWire().toBuffer()}, for a caller that needs that encoding too (the history row) and so
   * encodes the outputs once instead of twice. {@code nodes} null is written as {@code {}}, as {@link #toWire()} does.
   */
  public Buffer wire(Buffer output, Buffer nodes, Buffer errorJson) {
    if (!plain(id)) {
      return toWire().toBuffer();
    }
    StringBuilder head = new StringBuilder(160);
    head.append("{\"flow_run_id\":\"").append(id)
        .append("\",\"deployment_id\":\"").append(deploymentId)
        .append("\",\"status\":\"").append(status.wire()).append('"');
    if (flowVersion != null) {
      head.append(",\"flow_version\":").append(flowVersion.intValue());
    }
    Buffer b = Buffer.buffer(300 + (output == null ? 0 : output.length()) + (nodes == null ? 0 : nodes.length())
        + (errorJson == null ? 0 : errorJson.length()));
    if (status.terminal()) {
      b.appendString(head.append(",\"output_data\":").toString()).appendBuffer(output == null ? NULL : output)
          .appendString(",\"node_outputs\":").appendBuffer(nodes == null ? EMPTY : nodes);
      if (errorJson != null) {
        b.appendString(",\"error\":").appendBuffer(errorJson);
      }
      head.setLength(0);
    }
    Double duration = durationSeconds();
    head.append(",\"duration_seconds\":").append(duration == null ? "null" : Double.toString(duration));
    timestamp(head.append(",\"created_at\":"), createdAt);
    timestamp(head.append(",\"started_at\":"), startedAt);
    timestamp(head.append(",\"finished_at\":"), finishedAt);
    return b.appendString(head.append('}').toString());
  }

  private static void timestamp(StringBuilder b, Instant t) {
    if (t == null) {
      b.append("null");
    } else {
      b.append('"').append(Timestamps.format(t)).append('"');
    }
  }

  /** Whether {@code s} needs no JSON escaping (run ids are UUIDs; anything else goes through the encoder). */
  private static boolean plain(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == '"' || c == '\\' || c > 0x7e) {
        return false;
      }
    }
    return true;
  }

  /** Execution time (start to finish); null until the run has finished. */
  public Double durationSeconds() {
    if (finishedAt == null) {
      return null;
    }
    Instant from = startedAt != null ? startedAt : createdAt;
    return Duration.between(from, finishedAt).toNanos() / 1e9;
  }

  /**
   * The run stored in a Redis hash (see {@link RunStore}); null when the hash is empty (expired or unknown). An ended
   * run holds its result either as {@code result} or inside its stored wire form ({@code wire}).
   */
  static Run fromHash(String id, Map<String, String> h) {
    if (h == null || h.isEmpty() || h.get("status") == null || h.get("deployment") == null) {
      return null;
    }
    String stored = h.get("result") != null ? h.get("result") : h.get("wire");
    JsonObject result = stored == null ? null : new JsonObject(stored);
    return new Run(id,
        UUID.fromString(h.get("profile")),
        UUID.fromString(h.get("deployment")),
        uuid(h.get("flow_id")),
        h.get("flow_version") == null || h.get("flow_version").isEmpty() ? null
            : Integer.valueOf(h.get("flow_version")),
        h.get("mode"), h.get("type"),
        RunStatus.fromWire(h.get("status")),
        instant(h.get("created_at")), instant(h.get("started_at")), instant(h.get("finished_at")),
        result == null ? null : result.getJsonObject("output_data"),
        result == null ? null : result.getJsonObject("node_outputs"),
        result == null ? null : result.getJsonObject("error"),
        uuid(h.get("api_key_id")));
  }

  private static UUID uuid(String s) {
    return s == null || s.isEmpty() ? null : UUID.fromString(s);
  }

  private static Instant instant(String s) {
    return s == null || s.isEmpty() ? null : Timestamps.parse(s);
  }

  /** The result members stored when the run ends. */
  static JsonObject result(JsonObject outputData, JsonObject nodeOutputs, JsonObject error) {
    JsonObject r = new JsonObject().put("output_data", outputData).put("node_outputs", nodeOutputs);
    if (error != null) {
      r.put("error", error);
    }
    return r;
  }
}
