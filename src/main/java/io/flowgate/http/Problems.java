package io.flowgate.http;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import java.util.function.BiConsumer;

/**
 * Renders RFC 9457 problem details with flowgate's two extension members ({@code code}, {@code message}) so that
 * both problem-aware clients and the aicuflow snippets read them. Event-loop only.
 */
public final class Problems {
  public static final CharSequence PROBLEM_JSON = HttpHeaders.createOptimized("application/problem+json");
  public static final CharSequence X_REQUEST_ID = HttpHeaders.createOptimized("X-Request-Id");
  private static final CharSequence WWW_AUTHENTICATE = HttpHeaders.createOptimized("WWW-Authenticate");
  private static final CharSequence NO_STORE = HttpHeaders.createOptimized("no-store");

  private Problems() {
  }

  /** The problem body of {@code e} for the request {@code requestId}. */
  public static JsonObject body(GatewayException e, String requestId) {
    ErrorCode code = e.code();
    JsonObject body = new JsonObject()
        .put("type", code.type())
        .put("title", code.title())
        .put("status", code.status())
        .put("detail", e.detail())
        .put("instance", requestId)
        .put("code", code.code())
        .put("message", e.detail());
    if (e.details() != null) {
      body.put("details", e.details());
    }
    if (e.data() != null) {
      body.put("data", e.data());
    }
    return body;
  }

  /** Writes {@code e} as the whole response; does nothing if the response has already ended. */
  public static void send(HttpServerResponse response, GatewayException e, String requestId) {
    if (response.ended()) {
      return;
    }
    if (response.headWritten()) {
      // The status line is gone; the only honest signal left is to cut the connection.
      response.reset();
      return;
    }
    MultiMap headers = response.headers();
    headers(e, requestId, headers::set);
    response.setStatusCode(e.code().status()).end(body(e, requestId).toBuffer());
  }

  /**
   * The headers of the problem answer to {@code e}, in order, handed to {@code put}: for every path that writes a
   * problem, so that they never drift apart.
   */
  public static void headers(GatewayException e, String requestId, BiConsumer<CharSequence, CharSequence> put) {
    put.accept(HttpHeaders.CONTENT_TYPE, PROBLEM_JSON);
    put.accept(HttpHeaders.CACHE_CONTROL, NO_STORE);
    if (requestId != null) {
      put.accept(X_REQUEST_ID, requestId);
    }
    if (e.retryAfterSeconds() != null) {
      put.accept(HttpHeaders.RETRY_AFTER, Integer.toString(e.retryAfterSeconds()));
    }
    if (e.code() == ErrorCode.MISSING_API_KEY || e.code() == ErrorCode.INVALID_API_KEY
        || e.code() == ErrorCode.API_KEY_INACTIVE) {
      put.accept(WWW_AUTHENTICATE, "ApiKey header=\"X-API-Key\"");
    } else if (e.code() == ErrorCode.UNAUTHORIZED) {
      put.accept(WWW_AUTHENTICATE, "Bearer");
    }
  }
}
