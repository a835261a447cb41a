package io.flowgate.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Writes the success envelope {@code {"status": "success", "data": ...}} of DESIGN §1.2. Event-loop only. */
public final class Responses {
  private static final CharSequence APPLICATION_JSON = HttpHeaders.createOptimized("application/json");
  private static final CharSequence NO_STORE = HttpHeaders.createOptimized("no-store");
  private static final Buffer PREFIX = Buffer.buffer("{\"status\":\"success\",\"data\":");
  private static final Buffer SUFFIX = Buffer.buffer("}");

  private Responses() {
  }

  /** The envelope around {@code data}, encoded once, without re-wrapping the object. */
  public static Buffer envelope(JsonObject data) {
    Buffer encoded = data.toBuffer();
    return Buffer.buffer(PREFIX.length() + encoded.length() + 1).appendBuffer(PREFIX).appendBuffer(encoded)
        .appendBuffer(SUFFIX);
  }

  /** The envelope around {@code data}, JSON already encoded (a run's stored wire form): spliced in, not re-encoded. */
  public static Buffer envelope(Buffer data) {
    return Buffer.buffer(PREFIX.length() + data.length() + 1).appendBuffer(PREFIX).appendBuffer(data)
        .appendBuffer(SUFFIX);
  }

  /** {@link #success(RoutingContext, int, JsonObject)} with {@code data} encoded already. */
  public static void success(RoutingContext rc, int status, Buffer data) {
    send(rc.response(), status, envelope(data), RequestContext.requestId(rc));
  }

  public static void success(RoutingContext rc, int status, JsonObject data) {
    send(rc.response(), status, envelope(data), RequestContext.requestId(rc));
  }

  public static void send(HttpServerResponse response, int status, Buffer body, String requestId) {
    if (response.ended()) {
      return;
    }
    response.headers()
        .set(HttpHeaders.CONTENT_TYPE, APPLICATION_JSON)
        .set(HttpHeaders.CACHE_CONTROL, NO_STORE);
    if (requestId != null) {
      response.headers().set(Problems.X_REQUEST_ID, requestId);
    }
    response.setStatusCode(status).end(body);
  }

  /** 204 with no body. */
  public static void noContent(RoutingContext rc) {
    HttpServerResponse response = rc.response();
    response.headers().set(Problems.X_REQUEST_ID, RequestContext.requestId(rc));
    response.setStatusCode(204).end();
  }
}
