package io.flowgate.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.deployments.SampleFlows;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The bad input of issue #6 on deployments: a PATCH with an unknown member or a wrong type, and rate limits of zero or
 * below (on PATCH and on creation), are 400 naming the field in the message and in {@code details}; an unknown usage
 * window is 400 naming the allowed ones. Also: PATCH changes each setting and a fresh deployment's usage is zero.
 */
class DeploymentSettingsApiTest extends ControlApiTestBase {

  @Test
  void a_patch_with_an_unknown_member_or_a_wrong_type_is_400_naming_the_field() {
    String id = newDeployment(ADMIN_TOKEN, newFlow(ADMIN_TOKEN, SampleFlows.greeting("typed"))).getString("id");
    Map<String, Object> bad = Map.of(
        "colour", "blue",
        "timeout_seconds", "ten",
        "max_body_bytes", 1.5,
        "execution_mode", 5,
        "deployment_type", true,
        "rate_limit", "fast",
        "notification", 3,
        "name", new JsonArray().add("x"),
        "flow_id", 42);
    bad.forEach((field, value) -> {
      Reply reply = admin(HttpMethod.PATCH, "/deployments/" + id, new JsonObject().put(field, value));
      assertThat(reply.status()).as("%s = %s", field, value).isEqualTo(400);
      assertThat(reply.problemCode()).isEqualTo("invalid_request");
      assertThat(reply.message()).as(field).contains("\"" + field + "\"");
      assertThat(reply.json().getJsonArray("details").getJsonObject(0).getString("field")).isEqualTo(field);
    });
    // Nothing was changed by the refused patches.
    JsonObject unchanged = admin(HttpMethod.GET, "/deployments/" + id).data();
    assertThat(unchanged.getString("execution_mode")).isEqualTo("sync");
    assertThat(unchanged.getValue("timeout_seconds")).isNull();
  }

  @Test
  void rate_limits_of_zero_or_below_are_400_naming_the_member_on_patch_and_on_creation() {
    String flowId = newFlow(ADMIN_TOKEN, SampleFlows.greeting("limited"));
    String id = newDeployment(ADMIN_TOKEN, flowId).getString("id");
    Map<JsonObject, String> bad = Map.of(
        new JsonObject().put("requests_per_second", 0).put("burst", 10), "rate_limit.requests_per_second",
        new JsonObject().put("requests_per_second", -5), "rate_limit.requests_per_second",
        new JsonObject().put("requests_per_second", "10"), "rate_limit.requests_per_second",
        new JsonObject().put("burst", 10), "rate_limit.requests_per_second",
        new JsonObject().put("requests_per_second", 10).put("burst", 0), "rate_limit.burst",
        new JsonObject().put("requests_per_second", 10).put("burst", -1), "rate_limit.burst",
        new JsonObject().put("requests_per_second", 10).put("window", 1), "rate_limit.window");
    bad.forEach((limit, field) -> {
      Reply patch = admin(HttpMethod.PATCH, "/deployments/" + id, new JsonObject().put("rate_limit", limit));
      assertThat(patch.status()).as("%s", limit).isEqualTo(400);
      assertThat(patch.problemCode()).isEqualTo("invalid_request");
      assertThat(patch.message()).contains(field);
      assertThat(patch.json().getJsonArray("details").getJsonObject(0).getString("field")).isEqualTo(field);
      Reply create = admin(HttpMethod.POST, "/deployments", new JsonObject().put("flow_id", flowId)
          .put("rate_limit", limit));
      assertThat(create.status()).as("%s", limit).isEqualTo(400);
      assertThat(create.message()).contains(field);
    });
    assertThat(admin(HttpMethod.GET, "/deployments/" + id).data().getValue("rate_limit")).isNull();
  }

  @Test
  void a_patch_changes_every_setting_it_names_and_null_clears_the_optional_ones() {
    String id = newDeployment(ADMIN_TOKEN, newFlow(ADMIN_TOKEN, SampleFlows.greeting("settings"))).getString("id");
    JsonObject patched = admin(HttpMethod.PATCH, "/deployments/" + id, new JsonObject()
        .put("execution_mode", "async").put("deployment_type", "server").put("timeout_seconds", 30)
        .put("max_body_bytes", 2048).put("rate_limit", new JsonObject().put("requests_per_second", 2.5)
            .put("burst", 5))
        .put("notification", new JsonObject().put("url", "https://93.184.215.14/hook"))).data();
    assertThat(patched.getString("execution_mode")).isEqualTo("async");
    assertThat(patched.getString("deployment_type")).isEqualTo("server");
    assertThat(patched.getInteger("timeout_seconds")).isEqualTo(30);
    assertThat(patched.getInteger("max_body_bytes")).isEqualTo(2048);
    assertThat(patched.getJsonObject("rate_limit").getDouble("requests_per_second")).isEqualTo(2.5);
    assertThat(patched.getJsonObject("notification").getString("method")).isEqualTo("webhook");
    assertThat(patched.getString("webhook_secret")).startsWith("whsec_");

    JsonObject cleared = admin(HttpMethod.PATCH, "/deployments/" + id, new JsonObject().putNull("rate_limit")
        .putNull("timeout_seconds").put("notification", new JsonObject().put("method", "none"))).data();
    assertThat(cleared.getValue("rate_limit")).isNull();
    assertThat(cleared.getValue("timeout_seconds")).isNull();
    assertThat(cleared.getJsonObject("notification").getString("method")).isEqualTo("none");
    assertThat(cleared.getInteger("max_body_bytes")).isEqualTo(2048);
  }

  @Test
  void an_unknown_usage_window_is_400_and_an_unknown_deployment_404() {
    String id = newDeployment(ADMIN_TOKEN, newFlow(ADMIN_TOKEN, SampleFlows.greeting("windows"))).getString("id");
    for (String window : new String[] {"2h", "1d", "", "7D", "24h&window=1h"}) {
      Reply reply = admin(HttpMethod.GET, "/deployments/" + id + "/usage?window=" + window);
      assertThat(reply.status()).as(window).isEqualTo(400);
      assertThat(reply.problemCode()).isEqualTo("invalid_request");
      assertThat(reply.message()).contains("window");
    }
    assertThat(admin(HttpMethod.GET, "/deployments/" + id + "/usage?window=2h").message()).contains("1h, 24h, 7d");
    Reply unknown = admin(HttpMethod.GET, "/deployments/" + UUID.randomUUID() + "/usage");
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.problemCode()).isEqualTo("not_found");
  }

  @Test
  void a_fresh_deployment_has_zero_usage_in_every_window() {
    String id = newDeployment(ADMIN_TOKEN, newFlow(ADMIN_TOKEN, SampleFlows.greeting("idle"))).getString("id");
    for (String window : new String[] {"1h", "24h", "7d"}) {
      JsonObject usage = admin(HttpMethod.GET, "/deployments/" + id + "/usage?window=" + window).data();
      assertThat(usage.getString("window")).isEqualTo(window);
      assertThat(usage.getLong("calls")).isZero();
      assertThat(usage.getLong("errors")).isZero();
      assertThat(usage.getJsonObject("latency_ms").getValue("p50")).isNull();
      assertThat(usage.getValue("last_call_at")).isNull();
      assertThat(usage.getJsonObject("queued_runs").getLong("runs")).isZero();
      assertThat(usage.getJsonArray("keys")).isEmpty();
    }
    assertThat(admin(HttpMethod.GET, "/deployments/" + id + "/usage").data().getString("window")).isEqualTo("24h");
  }
}
