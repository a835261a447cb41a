package io.flowgate.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Parses request bodies with hard limits (nesting depth, number length, duplicate keys refused), so that hostile
 * JSON costs bounded time and memory. Thread-safe; used on event loops for bodies already bounded in size.
 */
public final class JsonBodies {
  private static final Buffer EMPTY_OBJECT = Buffer.buffer("{}");
  private static final String INPUT_DATA = "input_data";
  private final ObjectMapper mapper;
  private final int maxDepth;

  public JsonBodies(int maxDepth, int maxBytes) {
    this.maxDepth = maxDepth;
    JsonFactory factory = JsonFactory.builder()
        .streamReadConstraints(StreamReadConstraints.builder()
            .maxNestingDepth(maxDepth)
            .maxNumberLength(100)
            .maxStringLength(Math.max(1024, maxBytes))
            .maxDocumentLength(Math.max(1024L, maxBytes))
            .build())
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .build();
    this.mapper = JsonMapper.builder(factory).build();
  }

  /** Parses {@code body} as any JSON value (object → JsonObject, array → JsonArray); throws invalid_json. */
  public Object parse(Buffer body) {
    try {
      byte[] bytes = body.getBytes();
      try (JsonParser parser = mapper.createParser(bytes)) {
        Object value = mapper.readValue(parser, Object.class);
        if (parser.nextToken() != null) {
          throw new GatewayException(ErrorCode.INVALID_JSON,
              "The request body holds more than one JSON value; send exactly one JSON object.");
        }
        return wrap(value);
      }
    } catch (JsonProcessingException e) {
      throw new GatewayException(ErrorCode.INVALID_JSON, describe(e));
    } catch (IOException e) {
      throw new GatewayException(ErrorCode.INVALID_JSON, "The request body could not be read as JSON.");
    }
  }

  /** Parses a body that must be a JSON object (an empty body is an empty object). */
  public JsonObject parseObject(Buffer body, String what) {
    if (body == null || isBlank(body)) {
      return new JsonObject();
    }
    Object value = parse(body);
    if (!(value instanceof JsonObject object)) {
      throw new GatewayException(ErrorCode.INVALID_JSON, what + " must be a JSON object, like {\"name\": \"...\"}.");
    }
    return object;
  }

  /**
   * The bytes of a trigger envelope's {@code input_data} object, found with a streaming pass over {@code body} (the
   * same limits as {@link #parse}, no tree built): what Fast Mode forwards as it is. An absent or null
   * {@code input_data} is {@code {}}. Anything else wrong is thrown exactly as {@link #parseObject} and an
   * {@code input_data} that is not an object ({@code invalid_input}) would be, by parsing the body again the slow way.
   */
  public Buffer inputDataBytes(Buffer body) {
    if (body == null || isBlank(body)) {
      return EMPTY_OBJECT;
    }
    byte[] bytes = body.getBytes();
    int start = -1;
    int end = -1;
    try (JsonParser parser = mapper.createParser(bytes)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        throw slowly(body);
      }
      JsonToken token;
      while ((token = parser.nextToken()) == JsonToken.FIELD_NAME) {
        boolean input = INPUT_DATA.equals(parser.currentName());
        JsonToken value = parser.nextToken();
        if (!input) {
          parser.skipChildren();
        } else if (value == JsonToken.START_OBJECT) {
          // The token location may point at the field name: the object starts at the first '{' from there.
          start = (int) parser.currentTokenLocation().getByteOffset();
          parser.skipChildren();
          end = (int) parser.currentLocation().getByteOffset();
          while (start >= 0 && start < end && bytes[start] != '{') {
            start++;
          }
        } else if (value != JsonToken.VALUE_NULL) {
          throw slowly(body);
        }
      }
      if (token != JsonToken.END_OBJECT || parser.nextToken() != null) {
        throw slowly(body);
      }
    } catch (IOException e) {
      throw slowly(body);
    }
    if (start < 0) {
      return EMPTY_OBJECT;
    }
    if (end > bytes.length || bytes[start] != '{' || bytes[end - 1] != '}') {
      throw new IllegalStateException("input_data located at " + start + ".." + end + " is not an object");
    }
    return body.slice(start, end);
  }

  /** The error the tree parse gives for a body the streaming pass refused. */
  private GatewayException slowly(Buffer body) {
    JsonObject envelope = parseObject(body, "The request body");
    Object input = envelope.getValue(INPUT_DATA);
    if (input != null && !(input instanceof JsonObject)) {
      return invalidInputData();
    }
    throw new IllegalStateException("the streaming and the tree parse disagree about a request body");
  }

  /** {@code input_data} that is not a JSON object. */
  public static GatewayException invalidInputData() {
    return new GatewayException(ErrorCode.INVALID_INPUT,
        "input_data must be a JSON object, like {\"input_data\": {\"param1\": \"value1\"}}.");
  }

  private static boolean isBlank(Buffer body) {
    for (int i = 0; i < body.length(); i++) {
      byte b = body.getByte(i);
      if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
        return false;
      }
    }
    return true;
  }

  @SuppressWarnings("unchecked")
  private static Object wrap(Object value) {
    if (value instanceof Map<?, ?> map) {
      return new JsonObject((Map<String, Object>) map);
    }
    if (value instanceof List<?> list) {
      return new JsonArray((List<Object>) list);
    }
    return value;
  }

  private String describe(JsonProcessingException e) {
    String original = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
    if (original.contains("nesting depth")) {
      return "The JSON body is nested deeper than " + maxDepth + " levels; flatten it.";
    }
    if (original.contains("Number value length") || original.contains("Number length")) {
      return "The JSON body holds a number longer than 100 digits; send it as a string.";
    }
    if (original.contains("Duplicate field")) {
      return "The JSON body repeats a field name in one object (" + firstLine(original) + "); send each field once.";
    }
    String where = e.getLocation() == null ? ""
        : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
    return "The request body is not valid JSON" + where + ": " + firstLine(original) + ".";
  }

  private static String firstLine(String s) {
    int nl = s.indexOf('\n');
    String line = nl < 0 ? s : s.substring(0, nl);
    return line.length() > 200 ? line.substring(0, 200) : line;
  }
}
