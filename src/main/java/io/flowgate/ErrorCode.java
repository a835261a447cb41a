package io.flowgate;

/**
 * Every error code of the contract (DESIGN §1.6) plus the control plane's own: HTTP status, wire code, title and
 * the metrics outcome. The one source for responses, docs and dashboards. Immutable; any thread.
 */
public enum ErrorCode {
  INVALID_JSON(400, "invalid_json", "Invalid JSON"),
  INVALID_INPUT(400, "invalid_input", "Invalid input"),
  INVALID_REQUEST(400, "invalid_request", "Invalid request"),
  INVALID_FLOW(400, "invalid_flow", "Invalid flow definition"),
  INVALID_WEBHOOK_URL(400, "invalid_webhook_url", "Invalid webhook URL"),
  MISSING_API_KEY(401, "missing_api_key", "Missing API key"),
  INVALID_API_KEY(401, "invalid_api_key", "Invalid API key"),
  API_KEY_INACTIVE(401, "api_key_inactive", "API key inactive"),
  UNAUTHORIZED(401, "unauthorized", "Unauthorized"),
  FORBIDDEN(403, "forbidden", "Forbidden"),
  DEPLOYMENT_NOT_FOUND(404, "deployment_not_found", "Deployment not found"),
  FLOW_RUN_NOT_FOUND(404, "flow_run_not_found", "Flow run not found"),
  NOT_FOUND(404, "not_found", "Not found"),
  METHOD_NOT_ALLOWED(405, "method_not_allowed", "Method not allowed"),
  CONFLICT(409, "conflict", "Conflict"),
  PAYLOAD_TOO_LARGE(413, "payload_too_large", "Payload too large"),
  UNSUPPORTED_MEDIA_TYPE(415, "unsupported_media_type", "Unsupported media type"),
  INPUT_VALIDATION_FAILED(422, "input_validation_failed", "Input validation failed"),
  IDEMPOTENCY_KEY_REUSED(422, "idempotency_key_reused", "Idempotency key reused"),
  RATE_LIMITED(429, "rate_limited", "Rate limited"),
  HEADERS_TOO_LARGE(431, "headers_too_large", "Request header fields too large"),
  FLOW_FAILED(500, "flow_failed", "Flow failed"),
  INTERNAL(500, "internal_error", "Internal error"),
  INFERENCE_ERROR(502, "inference_error", "Inference server error"),
  INFERENCE_BOOTING(503, "inference_booting", "Inference server booting"),
  INFERENCE_UNAVAILABLE(503, "inference_unavailable", "Inference server unavailable"),
  SERVICE_UNAVAILABLE(503, "service_unavailable", "Service unavailable"),
  RUN_TIMEOUT(504, "run_timeout", "Run timed out"),
  INFERENCE_TIMEOUT(504, "inference_timeout", "Inference server timed out");

  private final int status;
  private final String code;
  private final String title;

  ErrorCode(int status, String code, String title) {
    this.status = status;
    this.code = code;
    this.title = title;
  }

  public int status() {
    return status;
  }

  /** The wire code, as in {@code "code": "invalid_api_key"}. */
  public String code() {
    return code;
  }

  public String title() {
    return title;
  }

  /** RFC 9457 {@code type} URI. */
  public String type() {
    return "urn:flowgate:error:" + code;
  }

  /** Low-cardinality outcome tag for metrics: the code itself (a closed set). */
  public String outcome() {
    return code;
  }
}
