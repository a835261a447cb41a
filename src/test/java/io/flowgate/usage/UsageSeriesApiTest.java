package io.flowgate.usage;

import static io.flowgate.testsupport.ControlPlane.createDeployment;
import static io.flowgate.testsupport.ControlPlane.createFlow;
import static io.flowgate.testsupport.ControlPlane.ok;
import static io.flowgate.testsupport.ControlPlane.problemCode;
import static io.flowgate.testsupport.ControlPlane.versionedFlow;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.testsupport.GatewayUnderTest;
import io.flowgate.testsupport.TestHttp.Reply;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code GET /api/v1/deployments/{id}/usage/series}: the calls this test made, per step of the window, adding up to the
 * usage report's totals; every step present; bad windows, unknown deployments and missing tokens refused. The node's
 * periodic write is set to 10 minutes: the series must write this node's counts itself before it reads.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UsageSeriesApiTest {
  private GatewayUnderTest node;
  private String deploymentId;

  @BeforeAll
  void start() {
    node = GatewayUnderTest.start(GatewayUnderTest.Backing.fresh(UsageSeriesApiTest.class), 1,
        Map.of("FLOWGATE_USAGE_FLUSH_MS", "600000"));
    String flow = createFlow(node.http(), versionedFlow("charted", 1, 0));
    JsonObject d = createDeployment(node.http(), new JsonObject().put("flow_id", flow)
        .put("deployment_type", "server"));
    deploymentId = d.getString("id");
    String key = d.getString("api_key");
    for (int i = 0; i < 3; i++) {
      assertThat(node.http().trigger(deploymentId, key, "{\"input_data\": {\"n\": " + i + "}}").status())
          .isEqualTo(200);
    }
    assertThat(node.http().trigger(deploymentId, key, "{\"input_data\": {\"n\": \"x\"}}").status()).isEqualTo(422);
  }

  @AfterAll
  void stop() {
    if (node != null) {
      node.close();
    }
  }

  @Test
  void the_last_hour_has_a_point_per_minute_that_adds_up_to_the_report() {
    JsonObject series = ok(node.http(), "GET", "/api/v1/deployments/" + deploymentId + "/usage/series?window=1h", null,
        200);
    assertThat(series.getString("deployment_id")).isEqualTo(deploymentId);
    assertThat(series.getString("window")).isEqualTo("1h");
    assertThat(series.getLong("step_seconds")).isEqualTo(60);
    JsonArray points = series.getJsonArray("points");
    assertThat(points.size()).as("one point per minute of the hour, the partial first minute included").isIn(60, 61);
    long calls = 0;
    long errors = 0;
    Instant previous = null;
    JsonObject busiest = null;
    for (int i = 0; i < points.size(); i++) {
      JsonObject p = points.getJsonObject(i);
      Instant at = Instant.parse(p.getString("at"));
      if (previous != null) {
        assertThat(at).isEqualTo(previous.plusSeconds(60));
      }
      previous = at;
      calls += p.getLong("calls");
      errors += p.getLong("errors");
      if (p.getLong("calls") > 0) {
        assertThat(p.getJsonObject("latency_ms").getDouble("p50")).isPositive();
        assertThat(p.getJsonObject("latency_ms").getDouble("p99"))
            .isGreaterThanOrEqualTo(p.getJsonObject("latency_ms").getDouble("p50"));
        busiest = p;
      } else {
        assertThat(p.getJsonObject("latency_ms").getValue("p50")).isNull();
      }
    }
    assertThat(calls).isEqualTo(4);
    assertThat(errors).isEqualTo(1);
    assertThat(busiest).isNotNull();
    assertThat(previous).isBeforeOrEqualTo(Instant.now());
    JsonObject report = ok(node.http(), "GET", "/api/v1/deployments/" + deploymentId + "/usage?window=1h", null, 200);
    assertThat(report.getLong("calls")).isEqualTo(calls);
    assertThat(report.getLong("errors")).isEqualTo(errors);
  }

  @Test
  void longer_windows_use_longer_steps() {
    JsonObject day = ok(node.http(), "GET", "/api/v1/deployments/" + deploymentId + "/usage/series", null, 200);
    assertThat(day.getString("window")).as("24h by default").isEqualTo("24h");
    assertThat(day.getLong("step_seconds")).isEqualTo(3600);
    assertThat(day.getJsonArray("points").size()).isIn(24, 25);
    JsonObject week = ok(node.http(), "GET", "/api/v1/deployments/" + deploymentId + "/usage/series?window=7d", null,
        200);
    assertThat(week.getLong("step_seconds")).isEqualTo(21600);
    assertThat(week.getJsonArray("points").size()).isIn(28, 29);
    long calls = week.getJsonArray("points").stream().mapToLong(p -> ((JsonObject) p).getLong("calls")).sum();
    assertThat(calls).isEqualTo(4);
  }

  @Test
  void a_bad_window_an_unknown_deployment_and_a_missing_token_are_refused() {
    Reply badWindow = node.http().admin("GET", "/api/v1/deployments/" + deploymentId + "/usage/series?window=2h", null,
        GatewayUnderTest.ADMIN_TOKEN);
    assertThat(badWindow.status()).isEqualTo(400);
    assertThat(problemCode(badWindow)).isEqualTo("invalid_request");
    assertThat(badWindow.json().getString("message")).contains("\"window\" must be one of 1h, 24h, 7d", "2h");
    Reply unknown = node.http().admin("GET", "/api/v1/deployments/" + UUID.randomUUID() + "/usage/series", null,
        GatewayUnderTest.ADMIN_TOKEN);
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(problemCode(unknown)).isEqualTo("not_found");
    Reply noToken = node.http().send("GET", "/api/v1/deployments/" + deploymentId + "/usage/series", null);
    assertThat(noToken.status()).isEqualTo(401);
    assertThat(problemCode(noToken)).isEqualTo("unauthorized");
  }
}
