package io.flowgate.control;

import static io.flowgate.deployments.DbFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.deployments.ApiKeys;
import io.flowgate.deployments.SampleFlows;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class ApiKeysApiTest extends ControlApiTestBase {

  @Test
  void a_profile_wide_key_is_shown_once_and_listed_masked() {
    Reply created = admin(HttpMethod.POST, "/api-keys", new JsonObject().put("name", "everything"));
    assertThat(created.status()).isEqualTo(201);
    JsonObject key = created.data();
    String plain = key.getString("api_key");
    assertThat(ApiKeys.wellFormed(plain)).isTrue();
    assertThat(key.getString("scope")).isEqualTo("profile");
    assertThat(key.getValue("deployment_id")).isNull();

    Reply list = admin(HttpMethod.GET, "/api-keys");
    assertThat(list.status()).isEqualTo(200);
    assertThat(list.body().toString()).doesNotContain(plain).doesNotContain(plain.substring(8, 30));
    JsonObject listed = find(list.data().getJsonArray("items"), key.getString("id"));
    assertThat(listed.getString("key")).isEqualTo(plain.substring(0, 8) + "********" + plain.substring(36));
    assertThat(listed.getString("key")).matches("sk-.{5}\\*{8}.{5}");
    assertThat(listed.fieldNames()).doesNotContain("api_key", "hash", "key_hash");
  }

  @Test
  void the_database_holds_only_the_hash_of_a_key() {
    String flowId = newFlow(ADMIN_TOKEN, SampleFlows.greeting("hashed"));
    String plainFirst = newDeployment(ADMIN_TOKEN, flowId).getString("api_key");
    String plainWide = admin(HttpMethod.POST, "/api-keys").data().getString("api_key");
    for (Row row : await(pool.query("SELECT row_to_json(k)::text AS j FROM api_keys k").execute())) {
      String columns = row.getString("j");
      for (String plain : new String[] {plainFirst, plainWide}) {
        assertThat(columns).doesNotContain(plain).doesNotContain(plain.substring(3)).doesNotContain(
            plain.substring(8, 36));
      }
    }
  }

  @Test
  void deactivates_activates_and_deletes_a_key() {
    String id = admin(HttpMethod.POST, "/api-keys").data().getString("id");
    Reply off = admin(HttpMethod.POST, "/api-keys/" + id + "/deactivate");
    assertThat(off.status()).isEqualTo(200);
    assertThat(off.data().getBoolean("active")).isFalse();
    assertThat(find(admin(HttpMethod.GET, "/api-keys").data().getJsonArray("items"), id).getBoolean("active"))
        .isFalse();
    Reply on = admin(HttpMethod.POST, "/api-keys/" + id + "/activate");
    assertThat(on.data().getBoolean("active")).isTrue();
    assertThat(admin(HttpMethod.DELETE, "/api-keys/" + id).status()).isEqualTo(204);
    assertThat(find(admin(HttpMethod.GET, "/api-keys").data().getJsonArray("items"), id)).isNull();
    Reply again = admin(HttpMethod.DELETE, "/api-keys/" + id);
    assertThat(again.status()).isEqualTo(404);
    assertThat(again.problemCode()).isEqualTo("not_found");
  }

  @Test
  void lists_the_keys_of_one_deployment_by_query() {
    String flowId = newFlow(ADMIN_TOKEN, SampleFlows.greeting("filtered"));
    JsonObject d = newDeployment(ADMIN_TOKEN, flowId);
    JsonArray items = admin(HttpMethod.GET, "/api-keys?deployment_id=" + d.getString("id")).data()
        .getJsonArray("items");
    assertThat(items).hasSize(1);
    assertThat(items.getJsonObject(0).getString("id")).isEqualTo(d.getString("api_key_id"));
    assertThat(admin(HttpMethod.GET, "/api-keys?deployment_id=zzz").status()).isEqualTo(400);
  }

  @Test
  void a_non_uuid_or_unknown_key_id_is_404() {
    for (String id : new String[] {"abc", UUID.randomUUID().toString()}) {
      assertThat(admin(HttpMethod.POST, "/api-keys/" + id + "/deactivate").status()).isEqualTo(404);
      assertThat(admin(HttpMethod.POST, "/api-keys/" + id + "/activate").status()).isEqualTo(404);
      assertThat(admin(HttpMethod.DELETE, "/api-keys/" + id).status()).isEqualTo(404);
    }
  }

  @Test
  void an_unknown_field_in_a_key_request_is_400() {
    Reply reply = admin(HttpMethod.POST, "/api-keys", new JsonObject().put("secret", "mine"));
    assertThat(reply.status()).isEqualTo(400);
    assertThat(reply.problemCode()).isEqualTo("invalid_request");
    assertThat(reply.message()).contains("secret");
  }

  private static JsonObject find(JsonArray items, String id) {
    for (int i = 0; i < items.size(); i++) {
      if (id.equals(items.getJsonObject(i).getString("id"))) {
        return items.getJsonObject(i);
      }
    }
    return null;
  }
}
