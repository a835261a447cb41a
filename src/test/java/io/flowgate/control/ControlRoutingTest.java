package io.flowgate.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.http.HttpMethod;
import org.junit.jupiter.api.Test;

class ControlRoutingTest extends ControlApiTestBase {

  @Test
  void an_unknown_path_is_404_problem_json() {
    Reply reply = admin(HttpMethod.GET, "/nothing-here");
    assertThat(reply.status()).isEqualTo(404);
    assertThat(reply.problemCode()).isEqualTo("not_found");
    assertThat(admin(HttpMethod.POST, "/deployments/x/unknown").problemCode()).isEqualTo("not_found");
  }

  @Test
  void an_unsupported_method_is_405_problem_json() {
    Reply reply = admin(HttpMethod.PATCH, "/flows");
    assertThat(reply.status()).isEqualTo(405);
    assertThat(reply.problemCode()).isEqualTo("method_not_allowed");
  }

  @Test
  void an_unknown_path_without_a_token_is_401_and_reveals_nothing() {
    Reply reply = call(HttpMethod.GET, "/nothing-here", null);
    assertThat(reply.status()).isEqualTo(401);
    assertThat(reply.problemCode()).isEqualTo("unauthorized");
  }

  @Test
  void a_trailing_slash_reaches_the_same_route() {
    Reply reply = admin(HttpMethod.GET, "/flows/");
    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.data().getJsonArray("items")).isNotNull();
  }
}
