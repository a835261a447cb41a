package io.flowgate.control;

import static io.flowgate.deployments.DbFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.deployments.ApiKeys;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.Test;

class ControlAuthTest extends ControlApiTestBase {

  @Test
  void a_call_without_a_token_is_401_unauthorized() {
    Reply reply = call(HttpMethod.GET, "/flows", null);
    assertThat(reply.status()).isEqualTo(401);
    assertThat(reply.problemCode()).isEqualTo("unauthorized");
    assertThat(reply.headers().get("WWW-Authenticate")).isEqualTo("Bearer");
    assertThat(reply.message()).contains("Authorization: Bearer");
  }

  @Test
  void a_wrong_token_is_401_unauthorized() {
    Reply reply = call(HttpMethod.GET, "/flows", "not-the-admin-token-at-all");
    assertThat(reply.status()).isEqualTo(401);
    assertThat(reply.problemCode()).isEqualTo("unauthorized");
  }

  @Test
  void a_well_formed_but_unknown_profile_token_is_401() {
    Reply reply = call(HttpMethod.GET, "/flows", ApiKeys.generate("mt-"));
    assertThat(reply.status()).isEqualTo(401);
    assertThat(reply.problemCode()).isEqualTo("unauthorized");
  }

  @Test
  void another_authorization_scheme_is_401() {
    Reply reply = send(HttpMethod.GET, "/flows", "Basic YWRtaW46YWRtaW4=");
    assertThat(reply.status()).isEqualTo(401);
    assertThat(reply.message()).contains("Bearer");
  }

  @Test
  void the_admin_token_creates_a_profile_whose_token_works() {
    Reply created = admin(HttpMethod.POST, "/profiles", new JsonObject().put("name", "team-auth"));
    assertThat(created.status()).isEqualTo(201);
    JsonObject data = created.data();
    assertThat(data.getString("name")).isEqualTo("team-auth");
    assertThat(data.getString("id")).isNotBlank();
    assertThat(data.getString("token")).startsWith("mt-");
    Reply list = call(HttpMethod.GET, "/flows", data.getString("token"));
    assertThat(list.status()).isEqualTo(200);
    assertThat(list.data().getJsonArray("items")).isEmpty();
  }

  @Test
  void a_profile_token_may_not_create_profiles() {
    String token = newProfileToken("team-not-admin");
    Reply reply = call(HttpMethod.POST, "/profiles", token, new JsonObject().put("name", "sneaky"));
    assertThat(reply.status()).isEqualTo(403);
    assertThat(reply.problemCode()).isEqualTo("forbidden");
  }

  @Test
  void a_duplicate_profile_name_is_409_conflict() {
    newProfileToken("team-dup");
    Reply reply = admin(HttpMethod.POST, "/profiles", new JsonObject().put("name", "team-dup"));
    assertThat(reply.status()).isEqualTo(409);
    assertThat(reply.problemCode()).isEqualTo("conflict");
  }

  @Test
  void a_profile_without_a_name_is_400_naming_the_field() {
    Reply reply = admin(HttpMethod.POST, "/profiles", new JsonObject());
    assertThat(reply.status()).isEqualTo(400);
    assertThat(reply.problemCode()).isEqualTo("invalid_request");
    assertThat(reply.message()).contains("name");
  }

  private Reply send(HttpMethod method, String path, String authorization) {
    HttpResponse<Buffer> response = await(client.request(method, "/api/v1" + path)
        .putHeader("Authorization", authorization).send());
    return new Reply(response.statusCode(), response.headers(), response.body());
  }
}
