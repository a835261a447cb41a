package io.flowgate.control;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.deployments.Ids;
import io.flowgate.http.JsonBodies;
import io.flowgate.http.Responses;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RequestBody;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.function.Function;

/**
 * The request plumbing the control handlers share: JSON bodies (media type, bounded parsing), path ids, and the one
 * terminal reply per request. Event-loop only.
 */
final class ControlRequests {
  private final JsonBodies json;

  ControlRequests(JsonBodies json) {
    this.json = json;
  }

  /**
   * The body as a JSON object; an absent body is {@code {}}. A body that is not {@code application/json} is 415, one
   * that is not a JSON object 400 {@code invalid_json}.
   */
  JsonObject body(RoutingContext rc, String what) {
    RequestBody body = rc.body();
    Buffer buffer = body == null ? null : body.buffer();
    if (buffer == null || buffer.length() == 0) {
      return new JsonObject();
    }
    String contentType = rc.request().getHeader(HttpHeaders.CONTENT_TYPE);
    if (!isJson(contentType)) {
      throw new GatewayException(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Send " + what + " as JSON with the header "
          + "'Content-Type: application/json'" + (contentType == null ? "." : ", not '" + shorten(contentType)
          + "'."));
    }
    return json.parseObject(buffer, what);
  }

  static boolean isJson(String contentType) {
    if (contentType == null) {
      return false;
    }
    int semicolon = contentType.indexOf(';');
    String type = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim()
        .toLowerCase(Locale.ROOT);
    return type.equals("application/json") || type.startsWith("application/") && type.endsWith("+json");
  }

  private static String shorten(String s) {
    return s.length() > 80 ? s.substring(0, 80) + "…" : s;
  }

  /** The UUID in path parameter {@code name}; anything else is 404, as for an id that does not exist. */
  static UUID pathId(RoutingContext rc, String name, String what) {
    String raw = rc.pathParam(name);
    UUID id = Ids.parse(raw);
    if (id == null) {
      throw new GatewayException(ErrorCode.NOT_FOUND, "No " + what + " has the id '"
          + (raw == null ? "" : raw.length() > 60 ? raw.substring(0, 60) + "…" : raw) + "'; ids are UUIDs.");
    }
    return id;
  }

  /** An optional string member of at most {@code max} characters. */
  static String optionalString(JsonObject body, String field, int max) {
    Object value = body.getValue(field);
    if (value == null) {
      return null;
    }
    if (!(value instanceof String s) || s.isBlank() || s.length() > max) {
      throw new GatewayException(ErrorCode.INVALID_REQUEST,
          "\"" + field + "\" must be a non-empty string of at most " + max + " characters.");
    }
    return s.trim();
  }

  /** Refuses members other than {@code allowed}, naming the first unknown one. */
  static void onlyFields(JsonObject body, List<String> allowed) {
    for (String field : body.fieldNames()) {
      if (!allowed.contains(field)) {
        throw new GatewayException(ErrorCode.INVALID_REQUEST, "\"" + field + "\" is not accepted here; send only "
            + String.join(", ", allowed) + ".");
      }
    }
  }

  /** {@code {"items": [...]}}: the shape of every list. */
  static <T> JsonObject items(List<T> values, Function<T, JsonObject> toJson) {
    JsonArray items = new JsonArray();
    for (T value : values) {
      items.add(toJson.apply(value));
    }
    return new JsonObject().put("items", items);
  }

  /** Runs {@code action} and answers its result with {@code status} in the success envelope, or fails the route. */
  static void reply(RoutingContext rc, int status, Callable<Future<JsonObject>> action) {
    Future<JsonObject> result;
    try {
      result = action.call();
    } catch (Exception e) {
      rc.fail(e);
      return;
    }
    result.onSuccess(data -> Responses.success(rc, status, data)).onFailure(rc::fail);
  }

  /** Runs {@code action} and answers 204, or fails the route. */
  static void replyNoContent(RoutingContext rc, Callable<Future<Void>> action) {
    Future<Void> result;
    try {
      result = action.call();
    } catch (Exception e) {
      rc.fail(e);
      return;
    }
    result.onSuccess(v -> Responses.noContent(rc)).onFailure(rc::fail);
  }
}
