package io.flowgate.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.deployments.SampleFlows;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ProfileIsolationTest extends ControlApiTestBase {
  private String tokenA;
  private String tokenB;
  private String flowA;
  private JsonObject deploymentA;
  private String keyA;

  @BeforeAll
  void createProfileAResources() {
    tokenA = newProfileToken("profile-a");
    tokenB = newProfileToken("profile-b");
    flowA = newFlow(tokenA, SampleFlows.greeting("a-flow"));
    deploymentA = newDeployment(tokenA, flowA);
    keyA = call(HttpMethod.POST, "/api-keys", tokenA, new JsonObject()).data().getString("id");
  }

  @Test
  void profile_b_sees_none_of_a_s_resources_in_lists() {
    assertThat(call(HttpMethod.GET, "/flows", tokenB).body().toString()).doesNotContain(flowA);
    assertThat(call(HttpMethod.GET, "/deployments", tokenB).body().toString())
        .doesNotContain(deploymentA.getString("id"));
    String keys = call(HttpMethod.GET, "/api-keys", tokenB).body().toString();
    assertThat(keys).doesNotContain(keyA).doesNotContain(deploymentA.getString("api_key_id"));
    assertThat(call(HttpMethod.GET, "/flows", tokenA).body().toString()).contains(flowA);
  }

  @Test
  void profile_b_gets_404_for_each_of_a_s_resources() {
    String d = deploymentA.getString("id");
    assertNotFound(call(HttpMethod.GET, "/flows/" + flowA, tokenB));
    assertNotFound(call(HttpMethod.PUT, "/flows/" + flowA, tokenB, SampleFlows.greeting("hijack")));
    assertNotFound(call(HttpMethod.DELETE, "/flows/" + flowA, tokenB));
    assertNotFound(call(HttpMethod.GET, "/deployments/" + d, tokenB));
    assertNotFound(call(HttpMethod.PATCH, "/deployments/" + d, tokenB, new JsonObject().put("name", "x")));
    assertNotFound(call(HttpMethod.POST, "/deployments/" + d + "/redeploy", tokenB));
    assertNotFound(call(HttpMethod.POST, "/deployments/" + d + "/api-keys", tokenB));
    assertNotFound(call(HttpMethod.GET, "/deployments/" + d + "/api-keys", tokenB));
    assertNotFound(call(HttpMethod.DELETE, "/deployments/" + d, tokenB));
    assertNotFound(call(HttpMethod.POST, "/api-keys/" + keyA + "/deactivate", tokenB));
    assertNotFound(call(HttpMethod.POST, "/api-keys/" + keyA + "/activate", tokenB));
    assertNotFound(call(HttpMethod.DELETE, "/api-keys/" + keyA, tokenB));

    assertThat(call(HttpMethod.GET, "/flows/" + flowA, tokenA).data().getInteger("version")).isEqualTo(1);
    assertThat(call(HttpMethod.GET, "/deployments/" + d, tokenA).data().getString("name")).isEqualTo("a-flow");
  }

  @Test
  void profile_b_cannot_deploy_a_s_flow() {
    Reply reply = call(HttpMethod.POST, "/deployments", tokenB, new JsonObject().put("flow_id", flowA));
    assertNotFound(reply);
  }

  @Test
  void the_admin_acts_for_the_default_profile_only() {
    assertThat(admin(HttpMethod.GET, "/flows").body().toString()).doesNotContain(flowA);
    assertNotFound(admin(HttpMethod.GET, "/flows/" + flowA));
  }

  private static void assertNotFound(Reply reply) {
    assertThat(reply.status()).as("reply %s", reply.body()).isEqualTo(404);
    assertThat(reply.problemCode()).isEqualTo("not_found");
  }
}
