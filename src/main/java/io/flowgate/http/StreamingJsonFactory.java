package io.flowgate.http;

import io.vertx.core.json.jackson.JacksonCodec;
import io.vertx.core.spi.JsonFactory;
import io.vertx.core.spi.json.JsonCodec;

/**
 * Vert.x's JSON codec without Jackson databind, for every {@code JsonObject} encode and decode in the process. With
 * jackson-databind on the classpath (the YAML configuration and the input schemas use it) Vert.x picks its databind
 * codec, which encodes through an {@code ObjectMapper} (a serializer provider allocated per call): ~7% of the bytes a
 * sync trigger allocates. The streaming codec writes the same JSON for what flowgate puts in a {@code JsonObject}
 * (maps, lists, strings, numbers, booleans, {@code Instant}, {@code byte[]}); it cannot map POJOs
 * ({@code JsonObject.mapFrom}), which flowgate does not use. Registered in
 * {@code META-INF/services/io.vertx.core.spi.JsonFactory} with an order ahead of Vert.x's own. Thread-safe.
 */
public final class StreamingJsonFactory implements JsonFactory {
  private static final JsonCodec CODEC = new JacksonCodec();

  @Override
  public JsonCodec codec() {
    return CODEC;
  }

  @Override
  public int order() {
    return 0;
  }
}
