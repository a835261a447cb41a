package io.flowgate.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.jackson.DatabindCodec;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The process-wide JSON codec is the streaming one, and it writes what Vert.x's databind codec wrote. */
class StreamingJsonFactoryTest {

  @Test
  void vertx_uses_the_streaming_codec() {
    assertThat(Json.CODEC).isNotInstanceOf(DatabindCodec.class);
  }

  @Test
  void encodes_a_run_envelope_byte_for_byte_like_the_databind_codec() {
    JsonObject wire = new JsonObject()
        .put("flow_run_id", "b18fa063-c03c-4bf2-a562-8b17298fccde")
        .put("status", "completed")
        .put("flow_version", 1)
        .put("output_data", new JsonObject().put("greeting", "Hello, Ada! \u00e9\u4e2d \"quoted\"\n").put("length", 3L))
        .put("node_outputs", new JsonObject().put("input", new JsonObject()
            .put("status", "completed").put("duration_ms", 0.027).put("output", new JsonObject().putNull("none"))))
        .put("duration_seconds", 0.008800369)
        .put("created_at", Instant.parse("2026-11-22T14:07:17.717809551Z"))
        .put("bytes", new byte[] {1, 2, 3, (byte) 0xff})
        .put("list", new JsonArray().add(1.5e300).add(-0.0).add(true).add(new BigDecimal("12.50")))
        .put("map", Map.of("k", List.of(1, "two")));
    String streaming = wire.encode();
    String databind = new DatabindCodec().toString(wire, false);
    assertThat(streaming).isEqualTo(databind);
    assertThat(new JsonObject(streaming).getString("created_at")).isEqualTo("2026-11-22T14:07:17.717809551Z");
    assertThat(wire.toBuffer().toString()).isEqualTo(databind);
  }
}
