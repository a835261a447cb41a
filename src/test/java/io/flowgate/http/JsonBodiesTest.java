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

  @Test
  void input_data_bytes_are_the_exact_slice_of_the_object_whatever_its_neighbours() {
    String[] bodies = {
        "{\"input_data\": {\"sepal_length\": 5.1, \"features\": [[1, 2], {\"x\": \"}{\"}]}}",
        "{ \"a\" : [ {\"input_data\": 1} ], \"input_data\"\n :\t{ \"k\" : \"v\" } , \"b\": {\"c\": null} }",
        "{\"input_data\":{}}",
        "{\"before\": \"\\\"input_data\\\": {\", \"input_data\": {\"ü\": \"€ 😀\"}}",
    };
    for (String body : bodies) {
      Buffer bytes = json.inputDataBytes(Buffer.buffer(body));
      assertThat(new JsonObject(bytes)).isEqualTo(json.parseObject(Buffer.buffer(body), "body")
          .getJsonObject("input_data"));
    }
    assertThat(json.inputDataBytes(Buffer.buffer("{\"input_data\": {\"a\" : 1 }}")).toString())
        .isEqualTo("{\"a\" : 1 }");
  }

  @Test
  void input_data_bytes_of_an_absent_or_null_input_are_an_empty_object() {
    assertThat(json.inputDataBytes(Buffer.buffer("")).toString()).isEqualTo("{}");
    assertThat(json.inputDataBytes(Buffer.buffer("{}")).toString()).isEqualTo("{}");
    assertThat(json.inputDataBytes(Buffer.buffer("{\"other\": [1]}")).toString()).isEqualTo("{}");
    assertThat(json.inputDataBytes(Buffer.buffer("{\"input_data\": null}")).toString()).isEqualTo("{}");
  }

  @Test
  void input_data_bytes_refuse_bad_bodies_with_the_tree_parse_errors() {
    assertInvalid(() -> json.inputDataBytes(Buffer.buffer("{\"input_data\": {\"a\": 1, \"a\": 2}}")), "repeats a field");
    assertInvalid(() -> json.inputDataBytes(Buffer.buffer("{\"input_data\": {}, \"input_data\": {}}")),
        "repeats a field");
    assertInvalid(() -> json.inputDataBytes(Buffer.buffer("{\"input_data\": {}} {}")), "more than one JSON value");
    assertInvalid(() -> json.inputDataBytes(Buffer.buffer("{\"input_data\": {\"a\": ")), "not valid JSON");
    assertInvalid(() -> json.inputDataBytes(Buffer.buffer("[{\"input_data\": {}}]")), "must be a JSON object");
    assertInvalid(() -> json.inputDataBytes(Buffer.buffer("{\"input_data\": " + "[".repeat(100) + "]".repeat(100)
        + "}")), "nested deeper than 64");
    assertInvalid(() -> json.inputDataBytes(Buffer.buffer("{\"input_data\": {\"n\": " + "9".repeat(200) + "}}")),
        "100 digits");
    for (String notObject : new String[] {"[1]", "\"x\"", "3", "true"}) {
      assertThatThrownBy(() -> json.inputDataBytes(Buffer.buffer("{\"input_data\": " + notObject + "}")))
          .isInstanceOf(GatewayException.class)
          .satisfies(e -> assertThat(((GatewayException) e).code()).isEqualTo(ErrorCode.INVALID_INPUT));
    }
  }
}
