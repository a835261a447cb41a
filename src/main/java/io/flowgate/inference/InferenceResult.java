package io.flowgate.inference;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * One prediction: {@code output_data} as the bytes of a JSON object (copied into the fast-mode response without being
 * parsed again) and, on demand, as a {@link JsonObject} (for flows). Read it on the thread that received it.
 */
public final class InferenceResult {
  private final Buffer outputJson;
  private JsonObject output;

  InferenceResult(Buffer outputJson, JsonObject output) {
    this.outputJson = outputJson;
    this.output = output;
  }

  /** The encoded {@code output_data} object. */
  public Buffer outputJson() {
    return outputJson;
  }

  /** {@code output_data} as an object (parsed on first use). */
  public JsonObject output() {
    if (output == null) {
      output = new JsonObject(outputJson);
    }
    return output;
  }
}
