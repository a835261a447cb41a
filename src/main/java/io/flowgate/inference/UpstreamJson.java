package io.flowgate.inference;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;

/**
 * Untrusted JSON from inference servers: checked with a streaming parser under limits (depth, number and string
 * length) without building a tree, so a passthrough answer is copied into the response as bytes. Thread-safe.
 */
final class UpstreamJson {
  private static final Buffer VALUE_PREFIX = Buffer.buffer("{\"value\":");
  private static final Buffer VALUE_SUFFIX = Buffer.buffer("}");
  private final JsonFactory factory;

  UpstreamJson(int maxBytes) {
    this.factory = JsonFactory.builder()
        .streamReadConstraints(StreamReadConstraints.builder()
            .maxNestingDepth(128)
            .maxNumberLength(1000)
            .maxStringLength(Math.max(1024, maxBytes))
            .build())
        .build();
  }

  /** The passthrough answer as an {@code output_data} object: the object itself, anything else as {"value": …}. */
  Buffer passthroughOutput(Buffer body) {
    JsonToken first = check(body);
    if (first == JsonToken.START_OBJECT) {
      return body;
    }
    return Buffer.buffer(body.length() + 10).appendBuffer(VALUE_PREFIX).appendBuffer(body).appendBuffer(VALUE_SUFFIX);
  }

  /** Parses an answer that must be a JSON object (the Open Inference Protocol's). */
  JsonObject object(Buffer body) {
    if (check(body) != JsonToken.START_OBJECT) {
      throw new UpstreamFailure(UpstreamFailure.Kind.NOT_JSON, "the inference server's answer is not a JSON object");
    }
    try {
      return new JsonObject(body);
    } catch (DecodeException e) {
      throw new UpstreamFailure(UpstreamFailure.Kind.NOT_JSON, "the inference server's answer is not valid JSON");
    }
  }

  /** The first token of the single JSON value in {@code body}; fails NOT_JSON when it is not exactly one value. */
  private JsonToken check(Buffer body) {
    try (JsonParser parser = factory.createParser(body.getBytes())) {
      JsonToken first = parser.nextToken();
      if (first == null) {
        throw notJson();
      }
      parser.skipChildren();
      if (parser.nextToken() != null) {
        throw notJson();
      }
      return first;
    } catch (IOException e) {
      throw notJson();
    }
  }

  private static UpstreamFailure notJson() {
    return new UpstreamFailure(UpstreamFailure.Kind.NOT_JSON, "the inference server's answer is not valid JSON");
  }
}
