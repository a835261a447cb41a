package io.flowgate.trigger;

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
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Issue #6 item 2 on the data plane: a rotated key keeps working for its overlap and is refused with 401
 * {@code api_key_inactive} after it (the new key works throughout); a key past its {@code expires_at} is refused the
 * same way; {@code last_used_at} shows up in the key list, to the minute, without a write per request.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KeyLifecycleTest {
  private static final String BODY = "{\"input_data\": {\"n\": 1}}";
  private GatewayUnderTest node;
  private String deployment;

  @BeforeAll
  void start() {
    node = GatewayUnderTest.start(GatewayUnderTest.Backing.fresh(KeyLifecycleTest.class), 1,
        Map.of("FLOWGATE_KEYS_LAST_USED_FLUSH_MS", "100"));
    String flow = createFlow(node.http(), versionedFlow("keys", 1, 0));
    deployment = createDeployment(node.http(), new JsonObject().put("flow_id", flow).put("deployment_type", "server"))
        .getString("id");
  }

  @AfterAll
  void stop() {
    if (node != null) {
      node.close();
    }
  }

  @Test
  void a_rotated_key_works_during_its_overlap_and_is_inactive_after_it() {
    JsonObject old = ok(node.http(), "POST", "/api/v1/deployments/" + deployment + "/api-keys", null, 201);
    String oldKey = old.getString("api_key");
    assertThat(node.http().trigger(deployment, oldKey, BODY).status()).isEqualTo(200);

    JsonObject rotated = ok(node.http(), "POST", "/api/v1/api-keys/" + old.getString("id") + "/rotate",
        new JsonObject().put("overlap_seconds", 3), 201);
    String newKey = rotated.getString("api_key");
    Instant overlapEnds = Instant.parse(rotated.getJsonObject("rotated_key").getString("expires_at"));

    // During the overlap both keys work.
    Reply during = node.http().trigger(deployment, oldKey, BODY);
    assertThat(Instant.now()).isBefore(overlapEnds);
    assertThat(during.status()).as(during.toString()).isEqualTo(200);
    assertThat(node.http().trigger(deployment, newKey, BODY).status()).isEqualTo(200);

    // After it the old key is inactive, the new one still works.
    Awaitility.await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
        .until(() -> node.http().trigger(deployment, oldKey, BODY).status() == 401);
    assertThat(Instant.now()).isAfterOrEqualTo(overlapEnds);
    Reply after = node.http().trigger(deployment, oldKey, BODY);
    assertThat(problemCode(after)).isEqualTo("api_key_inactive");
    assertThat(after.json().getString("message")).contains("rotated").contains("replaced it");
    assertThat(node.http().trigger(deployment, newKey, BODY).status()).isEqualTo(200);
  }

  @Test
  void a_key_past_its_expiry_is_inactive() {
    Instant expiry = Instant.now().plusSeconds(2).truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);
    String key = ok(node.http(), "POST", "/api/v1/api-keys", new JsonObject().put("expires_at", expiry.toString()),
        201).getString("api_key");
    assertThat(node.http().trigger(deployment, key, BODY).status()).isEqualTo(200);
    Awaitility.await().atMost(Duration.ofSeconds(6)).pollInterval(Duration.ofMillis(50))
        .until(() -> node.http().trigger(deployment, key, BODY).status() == 401);
    assertThat(Instant.now()).isAfterOrEqualTo(expiry);
    Reply refused = node.http().trigger(deployment, key, BODY);
    assertThat(problemCode(refused)).isEqualTo("api_key_inactive");
    assertThat(refused.json().getString("message")).contains("expired");
  }

  @Test
  void last_used_at_is_kept_to_the_minute_for_keys_that_were_used() {
    JsonObject used = ok(node.http(), "POST", "/api/v1/api-keys", new JsonObject().put("name", "used"), 201);
    JsonObject idle = ok(node.http(), "POST", "/api/v1/api-keys", new JsonObject().put("name", "idle"), 201);
    Instant before = Instant.now().truncatedTo(ChronoUnit.MINUTES);
    for (int i = 0; i < 3; i++) {
      assertThat(node.http().trigger(deployment, used.getString("api_key"), BODY).status()).isEqualTo(200);
    }
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> key(used.getString("id"))
        .getValue("last_used_at") != null);
    Instant lastUsed = Instant.parse(key(used.getString("id")).getString("last_used_at"));
    assertThat(lastUsed).isBetween(before, Instant.now());
    assertThat(lastUsed.getEpochSecond() % 60).isZero();
    assertThat(key(idle.getString("id")).getValue("last_used_at")).isNull();
  }

  private JsonObject key(String id) {
    JsonArray items = ok(node.http(), "GET", "/api/v1/api-keys", null, 200).getJsonArray("items");
    for (int i = 0; i < items.size(); i++) {
      if (id.equals(items.getJsonObject(i).getString("id"))) {
        return items.getJsonObject(i);
      }
    }
    throw new AssertionError("no key " + id);
  }
}
