package io.flowgate.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** The Open Inference Protocol mapping, without a server. */
class OpenInferenceTest {

  @Test
  void one_row_of_features_is_a_1_by_k_fp32_tensor_named_input() {
    JsonObject request = new JsonObject(OpenInference.request(new JsonObject("{\"features\": [5.1, 3.5, 1.4, 0.2]}")));
    JsonObject tensor = request.getJsonArray("inputs").getJsonObject(0);
    assertThat(tensor).isEqualTo(new JsonObject("{\"name\": \"input\", \"shape\": [1, 4], \"datatype\": \"FP32\","
        + " \"data\": [5.1, 3.5, 1.4, 0.2]}"));
  }

  @Test
  void rows_of_features_are_flattened_row_major_and_a_full_request_passes_through() {
    JsonObject request = new JsonObject(OpenInference.request(
        new JsonObject("{\"features\": [[1, 2], [3, 4], [5, 6]]}")));
    JsonObject tensor = request.getJsonArray("inputs").getJsonObject(0);
    assertThat(tensor.getJsonArray("shape")).containsExactly(3, 2);
    assertThat(tensor.getJsonArray("data")).containsExactly(1, 2, 3, 4, 5, 6);
    JsonObject full = new JsonObject("{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"INT64\","
        + " \"data\": [7]}], \"parameters\": {\"p\": 1}}");
    assertThat(new JsonObject(OpenInference.request(full))).isEqualTo(full);
  }

  @Test
  void input_that_cannot_be_mapped_is_invalid_input() {
    for (String bad : new String[] {"{}", "{\"features\": []}", "{\"features\": [\"a\"]}",
        "{\"features\": [[1, 2], [3]]}", "{\"features\": 4}"}) {
      assertThatThrownBy(() -> OpenInference.request(new JsonObject(bad))).as(bad)
          .isInstanceOfSatisfying(GatewayException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_INPUT));
    }
  }

  @Test
  void outputs_become_members_reshaped_to_their_shape_with_the_model_name() {
    JsonObject response = new JsonObject("{\"model_name\": \"iris\", \"outputs\": ["
        + "{\"name\": \"label\", \"shape\": [2], \"datatype\": \"BYTES\", \"data\": [\"setosa\", \"virginica\"]},"
        + "{\"name\": \"probabilities\", \"shape\": [2, 3], \"datatype\": \"FP32\", \"data\": [1, 2, 3, 4, 5, 6]},"
        + "{\"name\": \"odd\", \"shape\": [2, 2], \"datatype\": \"FP32\", \"data\": [1, 2, 3]}]}");
    JsonObject out = OpenInference.response(response);
    assertThat(out.getJsonArray("label")).containsExactly("setosa", "virginica");
    assertThat(out.getJsonArray("probabilities")).isEqualTo(new JsonArray("[[1, 2, 3], [4, 5, 6]]"));
    assertThat(out.getJsonArray("odd")).isEqualTo(new JsonArray("[1, 2, 3]"));
    assertThat(out.getString("model_name")).isEqualTo("iris");
  }

  @Test
  void a_response_without_outputs_is_an_upstream_error() {
    assertThatThrownBy(() -> OpenInference.response(new JsonObject("{\"error\": \"no\"}")))
        .isInstanceOf(UpstreamFailure.class).hasMessageContaining("outputs");
  }
}
