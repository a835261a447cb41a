package io.flowgate.inference;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * The mapping between flowgate's {@code input_data}/{@code output_data} and the Open Inference Protocol (KServe v2,
 * Triton) {@code POST /v2/models/{model}/infer}. Pure; any thread.
 *
 * <p>Request, from {@code input_data}:
 * <ul>
 *   <li>with an {@code inputs} member: already an inference request, sent as it is;</li>
 *   <li>{@code {"features": [5.1, 3.5, 1.4, 0.2]}}: one FP32 tensor {@code input} of shape {@code [1, 4]};</li>
 *   <li>{@code {"features": [[…], […]]}} (rows of equal length k): one FP32 tensor {@code input} of shape
 *       {@code [n, k]}, data row-major: {@code {"inputs": [{"name": "input", "shape": [n, k], "datatype": "FP32",
 *       "data": [...]}]}};</li>
 *   <li>anything else: 400 {@code invalid_input}.</li>
 * </ul>
 * Response, to {@code output_data}: each tensor of {@code outputs} becomes a member named after it whose value is its
 * {@code data} reshaped to its {@code shape} (shape {@code [2]} → a list, {@code [2, 3]} → a list of 2 lists of 3;
 * data whose length does not fit the shape stays flat), plus {@code model_name} (and {@code model_version} when
 * given): {@code {"label": ["setosa"], "probabilities": [[0.9, 0.07, 0.03]], "model_name": "iris"}}.
 */
public final class OpenInference {
  private OpenInference() {
  }

  /** The path of inference requests for {@code model}. */
  public static String inferPath(String model) {
    return "/v2/models/" + model + "/infer";
  }

  /** The inference request body for {@code inputData}; 400 {@code invalid_input} when it cannot be mapped. */
  public static Buffer request(JsonObject inputData) {
    if (inputData.getValue("inputs") instanceof JsonArray) {
      return inputData.toBuffer();
    }
    Object features = inputData.getValue("features");
    if (!(features instanceof JsonArray rows) || rows.isEmpty()) {
      throw invalid();
    }
    JsonArray data = new JsonArray(new ArrayList<>());
    int n;
    int k;
    if (rows.getValue(0) instanceof JsonArray) {
      n = rows.size();
      k = -1;
      for (Object row : rows) {
        if (!(row instanceof JsonArray r) || r.isEmpty() || k >= 0 && r.size() != k) {
          throw invalid();
        }
        k = r.size();
        addNumbers(r, data);
      }
    } else {
      n = 1;
      k = rows.size();
      addNumbers(rows, data);
    }
    JsonObject tensor = new JsonObject().put("name", "input").put("shape", new JsonArray().add(n).add(k))
        .put("datatype", "FP32").put("data", data);
    return new JsonObject().put("inputs", new JsonArray().add(tensor)).toBuffer();
  }

  private static void addNumbers(JsonArray values, JsonArray into) {
    for (Object v : values) {
      if (!(v instanceof Number)) {
        throw invalid();
      }
      into.add(v);
    }
  }

  private static GatewayException invalid() {
    return new GatewayException(ErrorCode.INVALID_INPUT, "This deployment's inference server speaks the Open "
        + "Inference Protocol: send input_data as {\"features\": [5.1, 3.5, 1.4, 0.2]} (one row), {\"features\": "
        + "[[...], [...]]} (rows of equal length, numbers only) or a full inference request with \"inputs\".");
  }

  /** {@code output_data} from an inference response; fails NOT_JSON when it has no {@code outputs} array. */
  static JsonObject response(JsonObject response) {
    Object outputs = response.getValue("outputs");
    if (!(outputs instanceof JsonArray list)) {
      throw new UpstreamFailure(UpstreamFailure.Kind.NOT_JSON,
          "the inference server's answer has no \"outputs\" array (not an Open Inference Protocol response)");
    }
    JsonObject out = new JsonObject();
    for (Object o : list) {
      if (!(o instanceof JsonObject tensor) || !(tensor.getValue("name") instanceof String name)) {
        throw new UpstreamFailure(UpstreamFailure.Kind.NOT_JSON,
            "the inference server's answer holds an output tensor without a name");
      }
      Object data = tensor.getValue("data");
      out.put(name, data instanceof JsonArray flat ? reshape(flat, tensor.getValue("shape")) : data);
    }
    Object modelName = response.getValue("model_name");
    if (modelName != null) {
      out.put("model_name", modelName);
    }
    Object version = response.getValue("model_version");
    if (version != null) {
      out.put("model_version", version);
    }
    return out;
  }

  /** {@code flat} as nested lists of {@code shape}; unchanged when the shape is absent or does not fit. */
  static JsonArray reshape(JsonArray flat, Object shape) {
    if (!(shape instanceof JsonArray dims) || dims.size() < 2) {
      return flat;
    }
    List<Integer> sizes = new ArrayList<>(dims.size());
    long product = 1;
    for (Object d : dims) {
      if (!(d instanceof Number n) || n.longValue() < 0) {
        return flat;
      }
      sizes.add(n.intValue());
      product *= n.longValue();
    }
    if (product != flat.size()) {
      return flat;
    }
    int[] position = {0};
    return nest(flat, sizes, 0, position);
  }

  private static JsonArray nest(JsonArray flat, List<Integer> sizes, int level, int[] position) {
    int size = sizes.get(level);
    JsonArray out = new JsonArray(new ArrayList<>(size));
    for (int i = 0; i < size; i++) {
      if (level == sizes.size() - 1) {
        out.add(flat.getValue(position[0]++));
      } else {
        out.add(nest(flat, sizes, level + 1, position));
      }
    }
    return out;
  }
}
