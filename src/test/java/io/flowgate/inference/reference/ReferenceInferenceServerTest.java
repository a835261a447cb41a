package io.flowgate.inference.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.flowgate.testsupport.TestHttp;
import io.flowgate.testsupport.TestHttp.Reply;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** A ready reference inference server on port 0 (two event loops), over real HTTP: both protocols and bad input. */
class ReferenceInferenceServerTest {
  private static final String SETOSA = "[5.1, 3.5, 1.4, 0.2]";
  private static final String VIRGINICA = "[6.7, 3.0, 5.2, 2.3]";
  private static ReferenceInferenceServer server;
  private static TestHttp http;

  @BeforeAll
  static void start() throws Exception {
    server = ReferenceInferenceServer.start(new ReferenceOptions("127.0.0.1", 0, Duration.ZERO, 2))
        .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    server.ready().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    http = new TestHttp("http://127.0.0.1:" + server.port());
  }

  @AfterAll
  static void stop() throws Exception {
    server.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  // --- passthrough -------------------------------------------------------------------------------------------------

  @Test
  void predicts_setosa_for_the_first_row_of_the_data_set() {
    Reply r = post("/predict", "{\"features\": " + SETOSA + "}");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("content-type")).isEqualTo("application/json");
    JsonObject json = r.json();
    assertThat(json.getString("label")).isEqualTo("setosa");
    JsonObject probs = json.getJsonObject("probabilities");
    assertThat(probs.fieldNames()).containsExactlyInAnyOrder("setosa", "versicolor", "virginica");
    assertThat(probs.getDouble("setosa")).isGreaterThan(0.8);
    assertThat(probs.getDouble("setosa") + probs.getDouble("versicolor") + probs.getDouble("virginica"))
        .isCloseTo(1.0, within(1e-6));
  }

  @Test
  void predicts_virginica_for_a_large_flower() {
    JsonObject json = post("/predict", "{\"features\": " + VIRGINICA + "}").json();
    assertThat(json.getString("label")).isEqualTo("virginica");
    assertThat(json.getJsonObject("probabilities").getDouble("virginica")).isGreaterThan(0.5);
  }

  @Test
  void ignores_other_members_next_to_the_features() {
    Reply r = post("/predict", "{\"id\": 7, \"meta\": {\"a\": [1, {}]}, \"features\": [5, 3.5, 1, 0]}");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getString("label")).isEqualTo("setosa");
  }

  @Test
  void predicts_a_batch_in_order() {
    Reply r = post("/predict", "{\"features\": [" + SETOSA + ", " + VIRGINICA + ", [5.9, 3.0, 4.2, 1.5]]}");
    assertThat(r.status()).isEqualTo(200);
    JsonArray predictions = r.json().getJsonArray("predictions");
    assertThat(predictions).hasSize(3);
    assertThat(predictions.getJsonObject(0).getString("label")).isEqualTo("setosa");
    assertThat(predictions.getJsonObject(1).getString("label")).isEqualTo("virginica");
    assertThat(predictions.getJsonObject(2).getString("label")).isEqualTo("versicolor");
    assertThat(predictions.getJsonObject(2).getJsonObject("probabilities").size()).isEqualTo(3);
  }

  @Test
  void predicts_a_batch_of_ten_thousand_rows_just_under_the_body_limit() {
    StringBuilder body = new StringBuilder("{\"features\": [");
    for (int i = 0; i < 10_000; i++) {
      body.append(i == 0 ? "" : ",").append(i % 2 == 0 ? SETOSA : VIRGINICA);
    }
    body.append("]}");
    assertThat(body.length()).isLessThan(ReferenceInferenceVerticle.BODY_LIMIT);
    Reply r = post("/predict", body.toString());
    assertThat(r.status()).isEqualTo(200);
    JsonArray predictions = r.json().getJsonArray("predictions");
    assertThat(predictions).hasSize(10_000);
    assertThat(predictions.getJsonObject(9_999).getString("label")).isEqualTo("virginica");
  }

  @Test
  void health_answers_200_once_ready() {
    Reply r = http.send("GET", "/health", null);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getString("status")).isEqualTo("ready");
  }

  // --- Open Inference Protocol v2 ----------------------------------------------------------------------------------

  @Test
  void liveness_and_readiness_answer_200() {
    assertThat(http.send("GET", "/v2/health/live", null).status()).isEqualTo(200);
    assertThat(http.send("GET", "/v2/health/ready", null).status()).isEqualTo(200);
    assertThat(http.send("GET", "/v2/models/iris/ready", null).status()).isEqualTo(200);
    assertThat(http.send("GET", "/v2/models/iris/versions/1/ready", null).status()).isEqualTo(200);
  }

  @Test
  void describes_the_model_and_its_tensors() {
    Reply r = http.send("GET", "/v2/models/iris", null);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json()).isEqualTo(new JsonObject("""
        {"name": "iris", "versions": ["1"], "platform": "tribuo_linear_sgd",
         "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, 4]}],
         "outputs": [{"name": "label", "datatype": "BYTES", "shape": [-1]},
                     {"name": "probabilities", "datatype": "FP32", "shape": [-1, 3]}]}"""));
    assertThat(http.send("GET", "/v2", null).json().getString("name")).isEqualTo("flowgate-reference-inference");
  }

  @Test
  void infers_two_rows_given_as_flat_row_major_data() {
    Reply r = post("/v2/models/iris/infer", """
        {"inputs": [{"name": "input", "shape": [2, 4], "datatype": "FP32",
                     "data": [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3]}]}""");
    assertThat(r.status()).isEqualTo(200);
    JsonObject json = r.json();
    assertThat(json.getString("model_name")).isEqualTo("iris");
    assertThat(json.containsKey("id")).isFalse();
    JsonArray outputs = json.getJsonArray("outputs");
    assertThat(outputs).hasSize(2);
    JsonObject label = outputs.getJsonObject(0);
    assertThat(label.getString("name")).isEqualTo("label");
    assertThat(label.getString("datatype")).isEqualTo("BYTES");
    assertThat(label.getJsonArray("shape")).isEqualTo(new JsonArray().add(2));
    assertThat(label.getJsonArray("data")).isEqualTo(new JsonArray().add("setosa").add("virginica"));
    JsonObject probs = outputs.getJsonObject(1);
    assertThat(probs.getString("name")).isEqualTo("probabilities");
    assertThat(probs.getString("datatype")).isEqualTo("FP32");
    assertThat(probs.getJsonArray("shape")).isEqualTo(new JsonArray().add(2).add(3));
    JsonArray data = probs.getJsonArray("data");
    assertThat(data).hasSize(6);
    assertThat(data.getDouble(0) + data.getDouble(1) + data.getDouble(2)).isCloseTo(1.0, within(1e-5));
    assertThat(data.getDouble(0)).isGreaterThan(0.8);
    assertThat(data.getDouble(5)).isGreaterThan(0.5);
  }

  @Test
  void infers_nested_data_on_the_versioned_path_and_echoes_the_id() {
    Reply r = post("/v2/models/iris/versions/1/infer", """
        {"id": "req-\\"42\\"", "parameters": {"x": 1},
         "inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "parameters": {},
                     "data": [[6.7, 3.0, 5.2, 2.3]]}]}""");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().getString("id")).isEqualTo("req-\"42\"");
    assertThat(r.json().getJsonArray("outputs").getJsonObject(0).getJsonArray("data").getString(0))
        .isEqualTo("virginica");
  }

  @Test
  void returns_only_the_outputs_asked_for() {
    Reply r = post("/v2/models/iris/infer", """
        {"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [5.1, 3.5, 1.4, 0.2]}],
         "outputs": [{"name": "probabilities"}]}""");
    assertThat(r.status()).isEqualTo(200);
    JsonArray outputs = r.json().getJsonArray("outputs");
    assertThat(outputs).hasSize(1);
    assertThat(outputs.getJsonObject(0).getString("name")).isEqualTo("probabilities");
  }

  // --- bad input ---------------------------------------------------------------------------------------------------

  static Stream<Arguments> bad_predict_bodies() {
    return Stream.of(
        Arguments.of("not JSON", "{\"features\": [5.1,", "not valid JSON"),
        Arguments.of("plain text", "hello", "not valid JSON"),
        Arguments.of("empty body", "", "must be a JSON object"),
        Arguments.of("an array, not an object", SETOSA, "must be a JSON object"),
        Arguments.of("two objects", "{\"features\": " + SETOSA + "} {}", "nothing after it"),
        Arguments.of("no features", "{\"input\": " + SETOSA + "}", "no \"features\""),
        Arguments.of("features not an array", "{\"features\": \"5.1,3.5,1.4,0.2\"}", "must be an array"),
        Arguments.of("empty features", "{\"features\": []}", "is empty"),
        Arguments.of("three numbers", "{\"features\": [5.1, 3.5, 1.4]}", "has 3 numbers; it needs exactly 4"),
        Arguments.of("five numbers", "{\"features\": [5.1, 3.5, 1.4, 0.2, 9]}", "more than 4 numbers"),
        Arguments.of("a string", "{\"features\": [5.1, \"3.5\", 1.4, 0.2]}", "\"features\"[1] is a string"),
        Arguments.of("a null", "{\"features\": [5.1, 3.5, null, 0.2]}", "\"features\"[2] is null"),
        Arguments.of("a boolean", "{\"features\": [true, 3.5, 1.4, 0.2]}", "is a boolean"),
        Arguments.of("a huge number", "{\"features\": [1e300, 3.5, 1.4, 0.2]}", "out of range"),
        Arguments.of("a short row in a batch", "{\"features\": [" + SETOSA + ", [1, 2]]}",
            "\"features\"[1] has 2 numbers"),
        Arguments.of("a number among rows", "{\"features\": [" + SETOSA + ", 5]}",
            "\"features\"[1] is a number; a batch is an array of rows"),
        Arguments.of("an empty row", "{\"features\": [[]]}", "\"features\"[0] has 0 numbers"),
        Arguments.of("deeply nested features", "{\"features\": " + "[".repeat(100) + "]".repeat(100) + "}",
            "\"features\"[0][0] is an array, not a number"),
        Arguments.of("a deeply nested ignored member",
            "{\"meta\": " + "[".repeat(100) + "]".repeat(100) + ", \"features\": " + SETOSA + "}",
            "nested too deeply"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("bad_predict_bodies")
  void predict_refuses_bad_input_with_400_and_a_sentence(String what, String body, String expected) {
    assertBadRequest(post("/predict", body), expected);
  }

  static Stream<Arguments> bad_infer_bodies() {
    String ok = "{\"name\": \"input\", \"shape\": [1, 4], \"datatype\": \"FP32\", \"data\": [5.1, 3.5, 1.4, 0.2]}";
    return Stream.of(
        Arguments.of("not JSON", "{\"inputs\": [", "not valid JSON"),
        Arguments.of("an array", "[" + ok + "]", "must be a JSON object"),
        Arguments.of("no inputs", "{\"id\": \"x\"}", "no \"inputs\""),
        Arguments.of("inputs not an array", "{\"inputs\": " + ok + "}", "\"inputs\" must be an array"),
        Arguments.of("empty inputs", "{\"inputs\": []}", "\"inputs\" is empty"),
        Arguments.of("two inputs", "{\"inputs\": [" + ok + ", " + ok + "]}", "exactly one input"),
        Arguments.of("wrong input name",
            input("x", "[1, 4]", "FP32", "[1, 2, 3, 4]"),
            "no input named \"x\""),
        Arguments.of("wrong datatype",
            input("input", "[1, 4]", "INT64", "[1, 2, 3, 4]"),
            "datatype must be FP32, not \"INT64\""),
        Arguments.of("no datatype", "{\"inputs\": [{\"name\": \"input\", \"shape\": [1, 4], \"data\": [1, 2, 3, 4]}]}",
            "no \"datatype\""),
        Arguments.of("three features",
            input("input", "[1, 3]", "FP32", "[1, 2, 3]"),
            "shape must be [n, 4] with n >= 1, not [1, 3]"),
        Arguments.of("rank one shape",
            input("input", "[4]", "FP32", "[1, 2, 3, 4]"),
            "shape must be [n, 4]"),
        Arguments.of("zero rows",
            input("input", "[0, 4]", "FP32", "[]"),
            "shape must be [n, 4] with n >= 1"),
        Arguments.of("shape and data disagree",
            input("input", "[2, 4]", "FP32", "[1, 2, 3, 4]"),
            "shape [2, 4] needs 8 values but \"data\" has 4"),
        Arguments.of("a shape of strings",
            input("input", "[\"1\", 4]", "FP32", "[1, 2, 3, 4]"),
            "\"shape\" must be an array of integers"),
        Arguments.of("a string in data",
            input("input", "[1, 4]", "FP32", "[1, \"2\", 3, 4]"),
            "element 1 is a string"),
        Arguments.of("no data", "{\"inputs\": [{\"name\": \"input\", \"shape\": [1, 4], \"datatype\": \"FP32\"}]}",
            "no \"data\""),
        Arguments.of("an id that is not a string", "{\"id\": 5, \"inputs\": [" + ok + "]}", "\"id\" must be a string"),
        Arguments.of("an unknown output", "{\"inputs\": [" + ok + "], \"outputs\": [{\"name\": \"logits\"}]}",
            "no output named \"logits\""));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("bad_infer_bodies")
  void infer_refuses_bad_input_with_400_and_a_sentence(String what, String body, String expected) {
    assertBadRequest(post("/v2/models/iris/infer", body), expected);
  }

  @Test
  void an_unknown_model_is_404() {
    for (String path : List.of("/v2/models/resnet/infer", "/v2/models/resnet", "/v2/models/resnet/ready")) {
      Reply r = path.endsWith("infer") ? post(path, "{}") : http.send("GET", path, null);
      assertThat(r.status()).as(path).isEqualTo(404);
      assertThat(r.json().getString("error")).contains("model \"resnet\" is not served here");
    }
    Reply r = post("/v2/models/iris/versions/2/infer", "{}");
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.json().getString("error")).contains("only version 1");
  }

  @Test
  void an_unknown_path_is_404_and_a_wrong_method_is_405() {
    Reply missing = http.send("GET", "/nope", null);
    assertThat(missing.status()).isEqualTo(404);
    assertThat(missing.json().getString("error")).contains("no endpoint at /nope");
    Reply get = http.send("GET", "/predict", null);
    assertThat(get.status()).isEqualTo(405);
    assertThat(get.header("allow")).isEqualTo("POST");
    Reply post = post("/v2/health/ready", "{}");
    assertThat(post.status()).isEqualTo(405);
    assertThat(post.header("allow")).isEqualTo("GET");
  }

  @Test
  void a_body_over_one_mebibyte_is_refused_with_413_before_it_is_read() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", server.port())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(("POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
          + "Content-Length: " + (ReferenceInferenceVerticle.BODY_LIMIT + 1) + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      assertThat(response).startsWith("HTTP/1.1 413 ");
      assertThat(response).contains("{\"error\":\"the body is larger than 1048576 bytes\"}");
    }
  }

  /** An inference request body with one tensor; the shape and data are JSON text. */
  private static String input(String name, String shape, String datatype, String data) {
    return "{\"inputs\": [{\"name\": \"" + name + "\", \"shape\": " + shape + ", \"datatype\": \"" + datatype
        + "\", \"data\": " + data + "}]}";
  }

  @Test
  void answers_expect_100_continue_before_the_body_is_sent() throws Exception {
    byte[] body = ("{\"features\": " + SETOSA + "}").getBytes(StandardCharsets.US_ASCII);
    try (Socket socket = new Socket("127.0.0.1", server.port())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(("POST /predict HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nConnection: close\r\n"
          + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      byte[] interim = in.readNBytes("HTTP/1.1 100 Continue\r\n\r\n".length());
      assertThat(new String(interim, StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 100 Continue\r\n\r\n");
      out.write(body);
      out.flush();
      String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      assertThat(response).startsWith("HTTP/1.1 200 ").contains("\"label\":\"setosa\"");
    }
  }

  private static void assertBadRequest(Reply r, String expected) {
    assertThat(r.status()).as(r.body()).isEqualTo(400);
    assertThat(r.header("content-type")).isEqualTo("application/json");
    JsonObject json = r.json();
    assertThat(json.fieldNames()).containsExactly("error");
    assertThat(json.getString("error")).contains(expected).doesNotContain("Exception").doesNotContain("\tat ");
  }

  private static Reply post(String path, String body) {
    return http.send("POST", path, body, "Content-Type", "application/json");
  }
}
