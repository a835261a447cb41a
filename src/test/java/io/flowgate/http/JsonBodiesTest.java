package io.flowgate.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class JsonBodiesTest {
  private final JsonBodies json = new JsonBodies(64, 1 << 20);

  private static void assertInvalid(Runnable r, String messagePart) {
    assertThatThrownBy(r::run).isInstanceOf(GatewayException.class)
        .satisfies(e -> {
          assertThat(((GatewayException) e).code()).isEqualTo(ErrorCode.INVALID_JSON);
          assertThat(e.getMessage()).contains(messagePart);
        });
  }

  @Test
  void parses_objects_and_treats_blank_bodies_as_empty_objects() {
    assertThat(json.parseObject(Buffer.buffer("{\"a\": [1, {\"b\": null}]}"), "body"))
        .isEqualTo(new JsonObject("{\"a\": [1, {\"b\": null}]}"));
    assertThat(json.parseObject(Buffer.buffer(""), "body")).isEmpty();
    assertThat(json.parseObject(Buffer.buffer(" \n"), "body")).isEmpty();
  }

  @Test
  void refuses_depth_beyond_the_limit_quickly() {
    String deep = "[".repeat(100_000) + "]".repeat(100_000);
    assertInvalid(() -> json.parse(Buffer.buffer(deep)), "nested deeper than 64");
  }

  @Test
  void refuses_numbers_longer_than_100_digits() {
    assertInvalid(() -> json.parse(Buffer.buffer("{\"n\": " + "9".repeat(100_000) + "}")), "100 digits");
  }

  @Test
  void refuses_duplicate_keys_trailing_values_and_garbage() {
    assertInvalid(() -> json.parse(Buffer.buffer("{\"a\": 1, \"a\": 2}")), "repeats a field");
    assertInvalid(() -> json.parse(Buffer.buffer("{} {}")), "more than one JSON value");
    assertInvalid(() -> json.parse(Buffer.buffer("{\"a\": ")), "not valid JSON");
    assertInvalid(() -> json.parse(Buffer.buffer(new byte[] {'{', '"', (byte) 0xff, '"', ':', '1', '}'})), "");
  }

  @Test
  void a_non_object_body_is_refused_where_an_object_is_required() {
    assertInvalid(() -> json.parseObject(Buffer.buffer("[1]"), "The request body"), "must be a JSON object");
    assertInvalid(() -> json.parseObject(Buffer.buffer("\"x\""), "The request body"), "must be a JSON object");
  }
}
