package io.flowgate.deployments;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class DeploymentSettingsTest {
  private static GatewayException refusal(JsonObject body) {
    return catchThrowableOfType(GatewayException.class, () -> DeploymentSettings.parse(body, false));
  }

  @Test
  void a_bad_execution_mode_lists_the_allowed_values() {
    GatewayException e = refusal(new JsonObject().put("execution_mode", "turbo"));
    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
    assertThat(e.detail()).contains("execution_mode").contains("sync, async, fast").contains("turbo");
  }

  @Test
  void a_bad_deployment_type_lists_the_allowed_values() {
    assertThat(refusal(new JsonObject().put("deployment_type", "lambda")).detail()).contains("api, server");
  }

  @Test
  void every_bad_field_is_named_in_details() {
    GatewayException e = refusal(new JsonObject().put("timeout_seconds", -1).put("flow_id", "nope")
        .put("colour", "blue"));
    assertThat(e.details()).hasSize(3);
    assertThat(e.details().stream().map(d -> ((JsonObject) d).getString("field")))
        .containsExactlyInAnyOrder("timeout_seconds", "flow_id", "colour");
  }

  @Test
  void a_webhook_needs_an_http_url_and_known_events() {
    assertThat(refusal(new JsonObject().put("notification", new JsonObject().put("method", "webhook")
        .put("url", "ftp://x"))).detail()).contains("notification.url");
    assertThat(refusal(new JsonObject().put("notification", new JsonObject().put("url", "https://x.example")
        .put("events", new JsonArray().add("run.exploded")))).detail()).contains("run.exploded");
  }

  @Test
  void a_rate_limit_without_burst_gets_one() {
    Deployment d = DeploymentSettings.parse(new JsonObject().put("rate_limit",
        new JsonObject().put("requests_per_second", 2.5)), false).applyTo(base());
    assertThat(d.rateLimit().getInteger("burst")).isEqualTo(3);
  }

  @Test
  void read_only_members_of_a_read_are_ignored() {
    Deployment d = DeploymentSettings.parse(base().toJson().put("name", "again"), true).applyTo(base());
    assertThat(d.name()).isEqualTo("again");
  }

  @Test
  void patch_refuses_null_for_required_settings_and_clears_optional_ones() {
    GatewayException e = catchThrowableOfType(GatewayException.class,
        () -> DeploymentSettings.parse(new JsonObject().putNull("execution_mode"), true));
    assertThat(e.detail()).contains("execution_mode");
    Deployment withTimeout = DeploymentSettings.parse(new JsonObject().put("timeout_seconds", 5), false)
        .applyTo(base());
    assertThat(DeploymentSettings.parse(new JsonObject().putNull("timeout_seconds"), true).applyTo(withTimeout)
        .timeoutSeconds()).isNull();
  }

  private static Deployment base() {
    return new Deployment(UUID.randomUUID(), Profile.DEFAULT_ID, UUID.randomUUID(), 1, "base", ExecutionMode.SYNC,
        DeploymentType.API, null, null, null, null, null, null, null);
  }
}
