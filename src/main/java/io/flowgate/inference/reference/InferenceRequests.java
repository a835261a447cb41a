package io.flowgate.inference.reference;

import static io.flowgate.inference.reference.BadInputException.badRequest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import java.io.IOException;

/**
 * Reads the two request bodies the server accepts, with Jackson's streaming parser (no tree, no maps): the
 * passthrough {@code {"features": [...]}} and the Open Inference Protocol v2 {@code {"inputs": [...]}}. Anything
 * else becomes a {@link BadInputException} whose message says what to send. Stateless; called on the event loop.
 */
final class InferenceRequests {
  static final int OUTPUT_LABEL = 1;
  static final int OUTPUT_PROBABILITIES = 2;
  static final int ALL_OUTPUTS = OUTPUT_LABEL | OUTPUT_PROBABILITIES;

  static final String INPUT_NAME = "input";
  static final String INPUT_DATATYPE = "FP32";
  private static final String PREDICT_EXAMPLE = "{\"features\": [5.1, 3.5, 1.4, 0.2]}";
  private static final String INFER_EXAMPLE = "{\"inputs\": [{\"name\": \"input\", \"shape\": [1, 4], "
      + "\"datatype\": \"FP32\", \"data\": [5.1, 3.5, 1.4, 0.2]}]}";
  private static final int MAX_SHAPE_RANK = 8;
  private static final long MAX_ROWS = Integer.MAX_VALUE / IrisModel.FEATURES;
  private static final int MAX_ECHO = 64;
  private static final double MAX_ABS_FEATURE = 1e6;

  // Thread-safe once built. A request is at most a batch of rows, so deep nesting is never legitimate.
  private static final JsonFactory JSON = JsonFactory.builder()
      .streamReadConstraints(StreamReadConstraints.builder()
          .maxNestingDepth(32)
          .maxNumberLength(100)
          .maxStringLength(64 * 1024)
          .build())
      .build();

  private InferenceRequests() {
  }

  /** A passthrough request: one row ({@code batch} false) or a batch of rows. */
  record Predict(FeatureRows rows, boolean batch) {
  }

  /** An Open Inference Protocol request: its rows, the optional {@code id} to echo and the outputs asked for. */
  record Infer(FeatureRows rows, String id, int outputs) {
  }

  /** Reads {@code {"features": [4 numbers]}} or {@code {"features": [[4 numbers], ...]}}; other members ignored. */
  static Predict predict(byte[] body) throws BadInputException {
    try (JsonParser p = JSON.createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw badRequest("the body must be a JSON object like " + PREDICT_EXAMPLE);
      }
      Predict result = null;
      for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        if (field.equals("features")) {
          result = features(p, value);
        } else {
          p.skipChildren();
        }
      }
      requireEnd(p);
      if (result == null) {
        throw badRequest("the body has no \"features\"; send " + PREDICT_EXAMPLE);
      }
      return result;
    } catch (StreamConstraintsException e) {
      throw badRequest("the body is nested too deeply or holds an overlong number or string");
    } catch (JsonProcessingException e) {
      throw notJson(e);
    } catch (IOException e) {
      throw badRequest("the body cannot be read");
    }
  }

  /** Reads an Open Inference Protocol v2 inference request for the model's single input tensor. */
  static Infer infer(byte[] body) throws BadInputException {
    try (JsonParser p = JSON.createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw badRequest("the body must be a JSON object like " + INFER_EXAMPLE);
      }
      FeatureRows rows = null;
      String id = null;
      int outputs = 0;
      for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        switch (field) {
          case "inputs" -> rows = inputs(p, value);
          case "outputs" -> outputs = outputs(p, value);
          case "id" -> {
            if (value != JsonToken.VALUE_STRING) {
              throw badRequest("\"id\" must be a string");
            }
            id = p.getText();
          }
          default -> p.skipChildren();
        }
      }
      requireEnd(p);
      if (rows == null) {
        throw badRequest("the body has no \"inputs\"; send " + INFER_EXAMPLE);
      }
      return new Infer(rows, id, outputs == 0 ? ALL_OUTPUTS : outputs);
    } catch (StreamConstraintsException e) {
      throw badRequest("the body is nested too deeply or holds an overlong number or string");
    } catch (JsonProcessingException e) {
      throw notJson(e);
    } catch (IOException e) {
      throw badRequest("the body cannot be read");
    }
  }

  private static Predict features(JsonParser p, JsonToken value) throws IOException, BadInputException {
    if (value != JsonToken.START_ARRAY) {
      throw badRequest("\"features\" must be an array of 4 numbers (sepal length, sepal width, petal length, "
          + "petal width in cm) or an array of such arrays, not " + describe(value));
    }
    JsonToken first = p.nextToken();
    if (first == JsonToken.START_ARRAY) {
      FeatureRows rows = new FeatureRows(8);
      int i = 0;
      for (JsonToken t = first; t != JsonToken.END_ARRAY; t = p.nextToken(), i++) {
        if (t != JsonToken.START_ARRAY) {
          throw badRequest("\"features\"[" + i + "] is " + describe(t) + "; a batch is an array of rows of 4 numbers");
        }
        row(p, rows, i);
      }
      return new Predict(rows, true);
    }
    if (first == JsonToken.END_ARRAY) {
      throw badRequest("\"features\" is empty; it needs 4 numbers (sepal length, sepal width, petal length, "
          + "petal width in cm)");
    }
    FeatureRows rows = new FeatureRows(1);
    rowFrom(p, first, rows, -1);
    return new Predict(rows, false);
  }

  private static void row(JsonParser p, FeatureRows rows, int index) throws IOException, BadInputException {
    rowFrom(p, p.nextToken(), rows, index);
  }

  /** Reads one row's numbers, {@code first} being the token after its '['; {@code index} -1 for a single row. */
  private static void rowFrom(JsonParser p, JsonToken first, FeatureRows rows, int index)
      throws IOException, BadInputException {
    int n = 0;
    for (JsonToken t = first; t != JsonToken.END_ARRAY; t = p.nextToken(), n++) {
      if (!t.isNumeric()) {
        throw badRequest(where(index) + "[" + n + "] is " + describe(t) + ", not a number");
      }
      if (n >= IrisModel.FEATURES) {
        throw badRequest(where(index) + " has more than 4 numbers; it needs exactly 4 (sepal length, sepal width, "
            + "petal length, petal width in cm)");
      }
      rows.add(number(p, where(index), n));
    }
    if (n != IrisModel.FEATURES) {
      throw badRequest(where(index) + " has " + n + (n == 1 ? " number" : " numbers") + "; it needs exactly 4 "
          + "(sepal length, sepal width, petal length, petal width in cm)");
    }
  }

  private static String where(int index) {
    return index < 0 ? "\"features\"" : "\"features\"[" + index + "]";
  }

  private static FeatureRows inputs(JsonParser p, JsonToken value) throws IOException, BadInputException {
    if (value != JsonToken.START_ARRAY) {
      throw badRequest("\"inputs\" must be an array of input tensors, like " + INFER_EXAMPLE);
    }
    FeatureRows rows = null;
    for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
      if (rows != null) {
        throw badRequest("model iris takes exactly one input tensor, \"input\"; the request has more");
      }
      if (t != JsonToken.START_OBJECT) {
        throw badRequest("each element of \"inputs\" must be a tensor object, not " + describe(t));
      }
      rows = tensor(p);
    }
    if (rows == null) {
      throw badRequest("\"inputs\" is empty; model iris takes one input tensor, \"input\"");
    }
    return rows;
  }

  /** Reads one input tensor object (after its '{') and checks it against the model's input. */
  private static FeatureRows tensor(JsonParser p) throws IOException, BadInputException {
    String name = null;
    String datatype = null;
    long[] shape = null;
    int rank = 0;
    FeatureRows data = null;
    for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
      String field = p.currentName();
      JsonToken value = p.nextToken();
      switch (field) {
        case "name" -> name = string(p, value, "the input's \"name\"");
        case "datatype" -> datatype = string(p, value, "the input's \"datatype\"");
        case "shape" -> {
          if (value != JsonToken.START_ARRAY) {
            throw badRequest("the input's \"shape\" must be an array of integers, like [1, 4]");
          }
          shape = new long[MAX_SHAPE_RANK];
          rank = 0;
          for (JsonToken d = p.nextToken(); d != JsonToken.END_ARRAY; d = p.nextToken()) {
            if (d != JsonToken.VALUE_NUMBER_INT || rank == MAX_SHAPE_RANK) {
              throw badRequest("the input's \"shape\" must be an array of integers, like [1, 4]");
            }
            shape[rank++] = p.getLongValue();
          }
        }
        case "data" -> {
          if (value != JsonToken.START_ARRAY) {
            throw badRequest("the input's \"data\" must be an array of numbers, flat (row-major) or nested");
          }
          data = new FeatureRows(4);
          flatten(p, data);
        }
        default -> p.skipChildren();
      }
    }
    if (name == null) {
      throw badRequest("the input has no \"name\"; model iris takes one input named \"input\"");
    }
    if (!name.equals(INPUT_NAME)) {
      throw badRequest("model iris has no input named " + quote(name) + "; its only input is \"input\"");
    }
    if (datatype == null) {
      throw badRequest("the input has no \"datatype\"; it must be FP32");
    }
    if (!datatype.equals(INPUT_DATATYPE)) {
      throw badRequest("the input's datatype must be FP32, not " + quote(datatype));
    }
    if (shape == null) {
      throw badRequest("the input has no \"shape\"; it must be [n, 4] for n rows of 4 features");
    }
    if (rank != 2 || shape[0] < 1 || shape[0] > MAX_ROWS || shape[1] != IrisModel.FEATURES) {
      throw badRequest("the input's shape must be [n, 4] with n >= 1, not " + shapeText(shape, rank));
    }
    if (data == null) {
      throw badRequest("the input has no \"data\"");
    }
    if (data.size() != shape[0] * IrisModel.FEATURES) {
      throw badRequest("the input's shape " + shapeText(shape, rank) + " needs " + shape[0] * IrisModel.FEATURES
          + " values but \"data\" has " + data.size());
    }
    return data;
  }

  /** Adds every number of a (possibly nested) array to {@code into}, after its '['. */
  private static void flatten(JsonParser p, FeatureRows into) throws IOException, BadInputException {
    int depth = 1;
    while (depth > 0) {
      JsonToken t = p.nextToken();
      if (t == JsonToken.START_ARRAY) {
        depth++;
      } else if (t == JsonToken.END_ARRAY) {
        depth--;
      } else if (t.isNumeric()) {
        into.add(number(p, "the input's \"data\"", into.size()));
      } else {
        throw badRequest("the input's \"data\" must hold only numbers; element " + into.size() + " is "
            + describe(t));
      }
    }
  }

  private static int outputs(JsonParser p, JsonToken value) throws IOException, BadInputException {
    if (value != JsonToken.START_ARRAY) {
      throw badRequest("\"outputs\" must be an array like [{\"name\": \"label\"}, {\"name\": \"probabilities\"}]");
    }
    int mask = 0;
    for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
      if (t != JsonToken.START_OBJECT) {
        throw badRequest("each element of \"outputs\" must be an object with a \"name\"");
      }
      String name = null;
      for (JsonToken f = p.nextToken(); f == JsonToken.FIELD_NAME; f = p.nextToken()) {
        String field = p.currentName();
        JsonToken v = p.nextToken();
        if (field.equals("name")) {
          name = string(p, v, "an output's \"name\"");
        } else {
          p.skipChildren();
        }
      }
      if ("label".equals(name)) {
        mask |= OUTPUT_LABEL;
      } else if ("probabilities".equals(name)) {
        mask |= OUTPUT_PROBABILITIES;
      } else {
        throw badRequest(name == null ? "an element of \"outputs\" has no \"name\""
            : "model iris has no output named " + quote(name) + "; its outputs are \"label\" and \"probabilities\"");
      }
    }
    return mask;
  }

  private static double number(JsonParser p, String where, int index) throws IOException, BadInputException {
    double v = p.getDoubleValue();
    // Bounded so the logits stay finite (no NaN probabilities); real measurements are a few centimetres.
    if (!(Math.abs(v) <= MAX_ABS_FEATURE)) {
      throw badRequest(where + "[" + index + "] is out of range; features must be between -1000000 and 1000000");
    }
    return v;
  }

  private static String string(JsonParser p, JsonToken value, String what) throws IOException, BadInputException {
    if (value != JsonToken.VALUE_STRING) {
      throw badRequest(what + " must be a string, not " + describe(value));
    }
    return p.getText();
  }

  private static void requireEnd(JsonParser p) throws IOException, BadInputException {
    if (p.nextToken() != null) {
      throw badRequest("the body must hold exactly one JSON object, with nothing after it");
    }
  }

  private static BadInputException notJson(JsonProcessingException e) {
    // The original message has no source excerpt or stack; the location is enough to find the mistake.
    String reason = String.valueOf(e.getOriginalMessage());
    for (String cut : new String[] {"\n", " (start marker", " at [Source"}) {
      int i = reason.indexOf(cut);
      reason = i < 0 ? reason : reason.substring(0, i);
    }
    if (reason.length() > 200) {
      reason = reason.substring(0, 200) + "...";
    }
    String at = e.getLocation() == null ? ""
        : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
    return badRequest("the body is not valid JSON" + at + ": " + reason);
  }

  /** A client's string in an error message: quoted, and cut short so the answer stays small. */
  private static String quote(String s) {
    return "\"" + (s.length() > MAX_ECHO ? s.substring(0, MAX_ECHO) + "..." : s) + "\"";
  }

  private static String shapeText(long[] shape, int rank) {
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < rank; i++) {
      b.append(i == 0 ? "" : ", ").append(shape[i]);
    }
    return b.append(']').toString();
  }

  private static String describe(JsonToken t) {
    if (t == null) {
      return "missing";
    }
    return switch (t) {
      case START_ARRAY -> "an array";
      case START_OBJECT -> "an object";
      case VALUE_STRING -> "a string";
      case VALUE_TRUE, VALUE_FALSE -> "a boolean";
      case VALUE_NULL -> "null";
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
      default -> "not a value";
    };
  }
}
