package io.flowgate.inference.reference;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.vertx.core.buffer.Buffer;
import java.util.List;

/**
 * Runs the model on a parsed request and writes the JSON answer by hand into one reused {@link StringBuilder}: the
 * keys and labels are constants, so an answer costs a few appends and one number formatting per probability. One
 * instance per verticle; event-loop only (the builder is reused).
 */
final class InferenceResponses {
  private static final List<String> LABELS = IrisModel.LABELS;
  private static final int CLASSES = LABELS.size();
  // "{"label":"setosa","probabilities":{"setosa":", ... precomputed per predicted label.
  private static final String[] PREDICTION_HEAD = new String[CLASSES];
  private static final String[] PROBABILITY_KEY = new String[CLASSES];
  private static final String[] QUOTED_LABEL = new String[CLASSES];

  static {
    for (int c = 0; c < CLASSES; c++) {
      PREDICTION_HEAD[c] = "{\"label\":\"" + LABELS.get(c) + "\",\"probabilities\":{";
      PROBABILITY_KEY[c] = (c == 0 ? "\"" : ",\"") + LABELS.get(c) + "\":";
      QUOTED_LABEL[c] = "\"" + LABELS.get(c) + "\"";
    }
  }

  private final StringBuilder out = new StringBuilder(256);

  /** {@code {"label", "probabilities"}} for one row, {@code {"predictions": [...]}} for a batch. */
  Buffer predict(IrisModel model, InferenceRequests.Predict request) {
    FeatureRows rows = request.rows();
    double[] x = rows.values();
    double[] probs = new double[CLASSES];
    out.setLength(0);
    if (!request.batch()) {
      prediction(model.predict(x, 0, probs, 0), probs);
      return done();
    }
    out.append("{\"predictions\":[");
    for (int r = 0, n = rows.rows(); r < n; r++) {
      if (r > 0) {
        out.append(',');
      }
      prediction(model.predict(x, r * IrisModel.FEATURES, probs, 0), probs);
    }
    out.append("]}");
    return done();
  }

  /** The Open Inference Protocol v2 response: {@code label} BYTES [n] and {@code probabilities} FP32 [n, 3]. */
  Buffer infer(IrisModel model, InferenceRequests.Infer request) {
    FeatureRows rows = request.rows();
    int n = rows.rows();
    double[] x = rows.values();
    double[] probs = new double[n * CLASSES];
    int[] labels = new int[n];
    for (int r = 0; r < n; r++) {
      labels[r] = model.predict(x, r * IrisModel.FEATURES, probs, r * CLASSES);
    }
    out.setLength(0);
    out.append("{\"model_name\":\"").append(IrisModel.NAME).append("\",\"model_version\":\"")
        .append(IrisModel.VERSION).append('"');
    if (request.id() != null) {
      out.append(",\"id\":\"").append(JsonStringEncoder.getInstance().quoteAsString(request.id())).append('"');
    }
    out.append(",\"outputs\":[");
    boolean first = true;
    if ((request.outputs() & InferenceRequests.OUTPUT_LABEL) != 0) {
      out.append("{\"name\":\"label\",\"datatype\":\"BYTES\",\"shape\":[").append(n).append("],\"data\":[");
      for (int r = 0; r < n; r++) {
        out.append(r == 0 ? "" : ",").append(QUOTED_LABEL[labels[r]]);
      }
      out.append("]}");
      first = false;
    }
    if ((request.outputs() & InferenceRequests.OUTPUT_PROBABILITIES) != 0) {
      out.append(first ? "" : ",").append("{\"name\":\"probabilities\",\"datatype\":\"FP32\",\"shape\":[")
          .append(n).append(',').append(CLASSES).append("],\"data\":[");
      for (int i = 0; i < probs.length; i++) {
        if (i > 0) {
          out.append(',');
        }
        out.append((float) probs[i]);
      }
      out.append("]}");
    }
    out.append("]}");
    return done();
  }

  private void prediction(int label, double[] probs) {
    out.append(PREDICTION_HEAD[label]);
    for (int c = 0; c < CLASSES; c++) {
      // Float precision (7 digits) is plenty for a probability, and formats in half the time of a double.
      out.append(PROBABILITY_KEY[c]).append((float) probs[c]);
    }
    out.append("}}");
  }

  private Buffer done() {
    return Buffer.buffer(out.toString());
  }

  /** {@code {"error": message}}, the message JSON-escaped. */
  static Buffer error(String message) {
    return Buffer.buffer(errorJson(message));
  }

  static String errorJson(String message) {
    return "{\"error\":\"" + new String(JsonStringEncoder.getInstance().quoteAsString(message)) + "\"}";
  }
}
