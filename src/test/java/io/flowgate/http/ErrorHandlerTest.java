package io.flowgate.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.handler.HttpException;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ErrorHandlerTest {
  @Test
  void gateway_exceptions_keep_their_code() {
    GatewayException e = new GatewayException(ErrorCode.RUN_TIMEOUT, "late");
    assertThat(ErrorHandler.toGatewayException(e, 500, null)).isSameAs(e);
  }

  @Test
  void bare_statuses_and_web_exceptions_map_to_contract_codes() {
    assertThat(ErrorHandler.toGatewayException(new HttpException(413), 413, null).code())
        .isEqualTo(ErrorCode.PAYLOAD_TOO_LARGE);
    assertThat(ErrorHandler.toGatewayException(null, 415, null).code()).isEqualTo(ErrorCode.UNSUPPORTED_MEDIA_TYPE);
    assertThat(ErrorHandler.toGatewayException(new DecodeException("x"), 500, null).code())
        .isEqualTo(ErrorCode.INVALID_JSON);
  }

  @Test
  void unknown_failures_become_internal_errors_without_their_message() {
    GatewayException e = ErrorHandler.toGatewayException(new IllegalStateException("secret detail"), 500, null);
    assertThat(e.code()).isEqualTo(ErrorCode.INTERNAL);
    assertThat(e.detail()).doesNotContain("secret detail");
  }

  @Test
  void problem_bodies_follow_rfc_9457_with_code_and_message() {
    GatewayException e = GatewayException.withData(ErrorCode.FLOW_FAILED, "The flow failed.",
        new JsonObject().put("flow_run_id", "r1"));
    JsonObject body = Problems.body(e, "req-1");
    assertThat(body.getString("type")).isEqualTo("urn:flowgate:error:flow_failed");
    assertThat(body.getString("title")).isEqualTo("Flow failed");
    assertThat(body.getInteger("status")).isEqualTo(500);
    assertThat(body.getString("detail")).isEqualTo("The flow failed.");
    assertThat(body.getString("message")).isEqualTo("The flow failed.");
    assertThat(body.getString("code")).isEqualTo("flow_failed");
    assertThat(body.getString("instance")).isEqualTo("req-1");
    assertThat(body.getJsonObject("data").getString("flow_run_id")).isEqualTo("r1");
  }

  @Test
  void every_code_of_the_contract_is_defined_once_with_its_status() {
    Set<String> codes = new HashSet<>();
    for (ErrorCode c : ErrorCode.values()) {
      assertThat(codes.add(c.code())).as(c.code()).isTrue();
      assertThat(c.status()).isBetween(400, 599);
    }
    assertThat(codes).contains("invalid_json", "invalid_input", "missing_api_key", "invalid_api_key",
        "api_key_inactive", "deployment_not_found", "flow_run_not_found", "payload_too_large",
        "unsupported_media_type", "input_validation_failed", "idempotency_key_reused", "rate_limited",
        "flow_failed", "inference_error", "inference_booting", "inference_unavailable", "service_unavailable",
        "run_timeout", "inference_timeout");
    assertThat(ErrorCode.INFERENCE_ERROR.status()).isEqualTo(502);
    assertThat(ErrorCode.RUN_TIMEOUT.status()).isEqualTo(504);
    assertThat(ErrorCode.IDEMPOTENCY_KEY_REUSED.status()).isEqualTo(422);
  }

  @Test
  void request_ids_from_clients_are_kept_only_when_sane() {
    assertThat(RequestIds.acceptOrCreate("abc-123")).isEqualTo("abc-123");
    assertThat(RequestIds.acceptOrCreate("has space")).hasSize(36);
    assertThat(RequestIds.acceptOrCreate("x".repeat(200))).hasSize(36);
    assertThat(RequestIds.acceptOrCreate(null)).matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  }
}
