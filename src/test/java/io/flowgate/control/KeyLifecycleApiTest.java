package io.flowgate.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.deployments.ApiKeys;
import io.flowgate.deployments.SampleFlows;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Key expiry and rotation through the control plane: the replacement is shown once, the old key is masked and ends
 * at the end of its overlap; bad input (expiry in the past, a deleted key, a bad overlap) is 400/404/409 naming what
 * to fix.
 */
class KeyLifecycleApiTest extends ControlApiTestBase {

  @Test
  void a_key_may_expire_on_both_kinds_of_key() {
    Instant at = Instant.now().plus(Duration.ofDays(30)).truncatedTo(ChronoUnit.SECONDS);
    Reply wide = admin(HttpMethod.POST, "/api-keys", new JsonObject().put("expires_at", at.toString()));
    assertThat(wide.status()).as(wide.body().toString()).isEqualTo(201);
    assertThat(Instant.parse(wide.data().getString("expires_at"))).isEqualTo(at);

    String deployment = newDeployment(ADMIN_TOKEN, newFlow(ADMIN_TOKEN, SampleFlows.greeting("expiring")))
        .getString("id");
    Reply scoped = admin(HttpMethod.POST, "/deployments/" + deployment + "/api-keys", new JsonObject()
        .put("name", "temp").put("expires_at", "2099-01-01T00:00:00+02:00"));
    assertThat(scoped.status()).isEqualTo(201);
    assertThat(Instant.parse(scoped.data().getString("expires_at"))).isEqualTo(Instant.parse("2098-12-31T22:00:00Z"));
  }

  @Test
  void an_expiry_in_the_past_or_not_a_time_is_400_naming_expires_at() {
    String deployment = newDeployment(ADMIN_TOKEN, newFlow(ADMIN_TOKEN, SampleFlows.greeting("past")))
        .getString("id");
    for (Object bad : new Object[] {"2001-01-01T00:00:00Z", Instant.now().minusSeconds(5).toString(), "tomorrow",
        "2030-01-01T00:00:00", 1_900_000_000, "9999-01-01T00:00:00Z"}) {
      for (String path : new String[] {"/api-keys", "/deployments/" + deployment + "/api-keys"}) {
        Reply reply = admin(HttpMethod.POST, path, new JsonObject().put("expires_at", bad));
        assertThat(reply.status()).as("%s %s", path, bad).isEqualTo(400);
        assertThat(reply.problemCode()).isEqualTo("invalid_request");
        assertThat(reply.message()).contains("expires_at");
      }
    }
    assertThat(admin(HttpMethod.POST, "/api-keys", new JsonObject().put("expires_at", "2001-01-01T00:00:00Z"))
        .message()).contains("in the past");
  }

  @Test
  void rotation_shows_the_new_key_once_and_ends_the_old_one_after_the_overlap() {
    String deployment = newDeployment(ADMIN_TOKEN, newFlow(ADMIN_TOKEN, SampleFlows.greeting("rolled")))
        .getString("id");
    JsonObject old = admin(HttpMethod.POST, "/deployments/" + deployment + "/api-keys",
        new JsonObject().put("name", "ci")).data();
    Instant before = Instant.now();
    Reply rotated = admin(HttpMethod.POST, "/api-keys/" + old.getString("id") + "/rotate",
        new JsonObject().put("overlap_seconds", 600));
    assertThat(rotated.status()).as(rotated.body().toString()).isEqualTo(201);
    JsonObject fresh = rotated.data();
    String plain = fresh.getString("api_key");
    assertThat(ApiKeys.wellFormed(plain)).isTrue();
    assertThat(plain).isNotEqualTo(old.getString("api_key"));
    assertThat(fresh.getString("key")).isEqualTo(ApiKeys.mask(plain));
    assertThat(fresh.getString("deployment_id")).isEqualTo(deployment);
    assertThat(fresh.getString("scope")).isEqualTo("deployment");
    assertThat(fresh.getString("name")).isEqualTo("ci");
    assertThat(fresh.getValue("expires_at")).isNull();

    JsonObject retired = fresh.getJsonObject("rotated_key");
    assertThat(retired.getString("id")).isEqualTo(old.getString("id"));
    assertThat(retired.getString("key")).isEqualTo(ApiKeys.mask(old.getString("api_key")));
    assertThat(retired.getString("replaced_by")).isEqualTo(fresh.getString("id"));
    assertThat(Instant.parse(retired.getString("expires_at")))
        .isBetween(before.plusSeconds(599), Instant.now().plusSeconds(601));
    assertThat(retired.encode()).doesNotContain(old.getString("api_key")).doesNotContain(plain);

    // Reads show both keys masked, never in plain text.
    Reply list = admin(HttpMethod.GET, "/api-keys?deployment_id=" + deployment);
    assertThat(list.body().toString()).doesNotContain(plain).doesNotContain(old.getString("api_key"))
        .contains(ApiKeys.mask(plain));
  }

  @Test
  void a_rotation_with_no_overlap_ends_the_old_key_now_and_gives_the_new_one_an_expiry() {
    String id = admin(HttpMethod.POST, "/api-keys").data().getString("id");
    Instant expiry = Instant.now().plus(Duration.ofDays(90)).truncatedTo(ChronoUnit.SECONDS);
    Reply rotated = admin(HttpMethod.POST, "/api-keys/" + id + "/rotate", new JsonObject().put("overlap_seconds", 0)
        .put("expires_at", expiry.toString()));
    assertThat(rotated.status()).isEqualTo(201);
    assertThat(Instant.parse(rotated.data().getString("expires_at"))).isEqualTo(expiry);
    assertThat(Instant.parse(rotated.data().getJsonObject("rotated_key").getString("expires_at")))
        .isBeforeOrEqualTo(Instant.now());
  }

  @Test
  void rotating_a_deleted_or_unknown_key_is_404_and_rotating_twice_is_409() {
    String id = admin(HttpMethod.POST, "/api-keys").data().getString("id");
    assertThat(admin(HttpMethod.DELETE, "/api-keys/" + id).status()).isEqualTo(204);
    Reply deleted = admin(HttpMethod.POST, "/api-keys/" + id + "/rotate");
    assertThat(deleted.status()).isEqualTo(404);
    assertThat(deleted.problemCode()).isEqualTo("not_found");
    assertThat(deleted.message()).contains(id).contains("GET /api/v1/api-keys");
    assertThat(admin(HttpMethod.POST, "/api-keys/" + UUID.randomUUID() + "/rotate").status()).isEqualTo(404);
    assertThat(admin(HttpMethod.POST, "/api-keys/not-a-uuid/rotate").status()).isEqualTo(404);

    String twice = admin(HttpMethod.POST, "/api-keys").data().getString("id");
    String replacement = admin(HttpMethod.POST, "/api-keys/" + twice + "/rotate").data().getString("id");
    Reply again = admin(HttpMethod.POST, "/api-keys/" + twice + "/rotate");
    assertThat(again.status()).isEqualTo(409);
    assertThat(again.problemCode()).isEqualTo("conflict");
    assertThat(again.message()).contains(replacement);
    assertThat(admin(HttpMethod.POST, "/api-keys/" + replacement + "/rotate").status()).isEqualTo(201);
  }

  @Test
  void a_bad_overlap_or_an_unknown_member_is_400_naming_it() {
    String id = admin(HttpMethod.POST, "/api-keys").data().getString("id");
    for (Object bad : new Object[] {-1, 1.5, "60", 30L * 86_400 + 1}) {
      Reply reply = admin(HttpMethod.POST, "/api-keys/" + id + "/rotate", new JsonObject().put("overlap_seconds",
          bad));
      assertThat(reply.status()).as("overlap %s", bad).isEqualTo(400);
      assertThat(reply.problemCode()).isEqualTo("invalid_request");
      assertThat(reply.message()).contains("overlap_seconds");
    }
    Reply unknown = admin(HttpMethod.POST, "/api-keys/" + id + "/rotate", new JsonObject().put("overlap", 5));
    assertThat(unknown.status()).isEqualTo(400);
    assertThat(unknown.message()).contains("\"overlap\"");
    Reply past = admin(HttpMethod.POST, "/api-keys/" + id + "/rotate", new JsonObject().put("expires_at",
        "2000-01-01T00:00:00Z"));
    assertThat(past.status()).isEqualTo(400);
    assertThat(past.message()).contains("expires_at");
    // Nothing was rotated by the refused calls.
    assertThat(admin(HttpMethod.POST, "/api-keys/" + id + "/rotate").status()).isEqualTo(201);
  }
}
