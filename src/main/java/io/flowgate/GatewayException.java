package io.flowgate;

import io.vertx.core.json.JsonObject;
import io.vertx.core.json.JsonArray;

/**
 * The one failure type of flowgate: an {@link ErrorCode}, a sentence a person can act on, and optional extension
 * members (a run in {@code data}, field errors in {@code details}, a {@code Retry-After}). Rendered by the HTTP
 * failure handler as RFC 9457 problem details. Immutable; any thread.
 */
public final class GatewayException extends RuntimeException {
  private final ErrorCode code;
  private final JsonObject data;
  private final JsonArray details;
  private final Integer retryAfterSeconds;

  public GatewayException(ErrorCode code, String detail) {
    this(code, detail, null, null, null);
  }

  public GatewayException(ErrorCode code, String detail, JsonObject data, JsonArray details,
      Integer retryAfterSeconds) {
    super(detail, null, false, false);
    this.code = code;
    this.data = data;
    this.details = details;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public static GatewayException withData(ErrorCode code, String detail, JsonObject data) {
    return new GatewayException(code, detail, data, null, null);
  }

  public static GatewayException withDetails(ErrorCode code, String detail, JsonArray details) {
    return new GatewayException(code, detail, null, details, null);
  }

  public static GatewayException retryAfter(ErrorCode code, String detail, int seconds) {
    return new GatewayException(code, detail, null, null, seconds);
  }

  public ErrorCode code() {
    return code;
  }

  public String detail() {
    return getMessage();
  }

  public JsonObject data() {
    return data;
  }

  public JsonArray details() {
    return details;
  }

  public Integer retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
