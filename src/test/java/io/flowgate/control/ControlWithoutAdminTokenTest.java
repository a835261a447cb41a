package io.flowgate.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class ControlWithoutAdminTokenTest extends ControlApiTestBase {

  @Override
  String adminToken() {
    return "";
  }

  @Test
  void any_token_is_refused_with_a_hint_to_set_the_admin_token() {
    Reply reply = call(HttpMethod.POST, "/profiles", ADMIN_TOKEN, new JsonObject().put("name", "x"));
    assertThat(reply.status()).isEqualTo(401);
    assertThat(reply.problemCode()).isEqualTo("unauthorized");
    assertThat(reply.message()).contains("FLOWGATE_ADMIN_TOKEN");
  }

  @Test
  void an_empty_bearer_token_is_refused() {
    Reply reply = call(HttpMethod.GET, "/flows", "");
    assertThat(reply.status()).isEqualTo(401);
    assertThat(reply.problemCode()).isEqualTo("unauthorized");
  }
}
