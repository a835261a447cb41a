package io.flowgate.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.deployments.ApiKeys;
import io.flowgate.deployments.SampleFlows;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class DeploymentsApiTest extends ControlApiTestBase {

  @Test
  void creates_a_deployment_with_defaults_and_shows_its_key_once() {
    String flowId = newFlow(ADMIN_TOKEN, SampleFlows.greeting("greeter"));
    Reply reply = admin(HttpMethod.POST, "/deployments", new JsonObject().put("flow_id", flowId));
    assertThat(reply.status()).isEqualTo(201);
    JsonObject d = reply.data();
    assertThat(d.getString("name")).isEqualTo("greeter");
    assertThat(d.getString("execution_mode")).isEqualTo("sync");
    assertThat(d.getString("deployment_type")).isEqualTo("api");
    assertThat(d.getInteger("flow_version")).isEqualTo(1);
    assertThat(d.getString("trigger_url")).isEqualTo("/node/deployment-trigger/" + d.getString("id") + "/");
    String key = d.getString("api_key");
    assertThat(ApiKeys.wellFormed(key)).isTrue();
    assertThat(d.getString("api_key_id")).isNotBlank();
    assertThat(d.getString("api_key_masked")).isEqualTo(ApiKeys.mask(key));

    Reply read = admin(HttpMethod.GET, "/deployments/" + d.getString("id"));
    assertThat(read.status()).isEqualTo(200);
    assertThat(read.body().toString()).doesNotContain(key);
    assertThat(read.data().containsKey("api_key")).isFalse();
  }

  @Test
  void creates_a_deployment_with_every_setting() {
    String flowId = newFlow(ADMIN_TOKEN, SampleFlows.greeting("tuned"));
    String server = UUID.randomUUID().toString();
    JsonObject body = new JsonObject().put("flow_id", flowId).put("name", "tuned-deployment")
        .put("execution_mode", "async").put("deployment_type", "server").put("timeout_seconds", 120)
        .put("notification", new JsonObject().put("method", "webhook").put("url", "https://93.184.215.14/x")
            .put("events", new JsonArray().add("run.completed")))
        .put("inference_server_id", server)
        .put("rate_limit", new JsonObject().put("requests_per_second", 50).put("burst", 100))
        .put("max_body_bytes", 4096);
    JsonObject d = admin(HttpMethod.POST, "/deployments", body).data();
    assertThat(d.getString("name")).isEqualTo("tuned-deployment");
    assertThat(d.getString("execution_mode")).isEqualTo("async");
    assertThat(d.getString("deployment_type")).isEqualTo("server");
    assertThat(d.getInteger("timeout_seconds")).isEqualTo(120);
    assertThat(d.getJsonObject("notification").getJsonArray("events")).containsExactly("run.completed");
    assertThat(d.getString("inference_server_id")).isEqualTo(server);
    assertThat(d.getJsonObject("rate_limit").getInteger("burst")).isEqualTo(100);
    assertThat(d.getInteger("max_body_bytes")).isEqualTo(4096);
  }

  @Test
  void a_fast_deployment_needs_no_flow() {
    String server = admin(HttpMethod.POST, "/inference-servers", new JsonObject().put("name", "iris")
        .put("protocol", "passthrough").put("replicas", new JsonArray().add("http://127.0.0.1:9001")))
        .data().getString("id");
    Reply reply = admin(HttpMethod.POST, "/deployments", new JsonObject().put("execution_mode", "fast")
        .put("name", "iris").put("inference_server_id", server));
    assertThat(reply.status()).isEqualTo(201);
    assertThat(reply.data().getValue("flow_id")).isNull();
  }

  @Test
  void a_deployment_without_a_flow_is_400_naming_flow_id() {
    Reply reply = admin(HttpMethod.POST, "/deployments", new JsonObject().put("name", "nothing"));
    assertThat(reply.status()).isEqualTo(400);
    assertThat(reply.problemCode()).isEqualTo("invalid_request");
    assertThat(reply.message()).contains("flow_id");
  }

  @Test
  void a_bad_enum_is_400_listing_the_allowed_values() {
    String flowId = newFlow(ADMIN_TOKEN, SampleFlows.greeting("enum"));
    Reply mode = admin(HttpMethod.POST, "/deployments", new JsonObject().put("flow_id", flowId)
        .put("execution_mode", "turbo"));
    assertThat(mode.status()).isEqualTo(400);
    assertThat(mode.problemCode()).isEqualTo("invalid_request");
    assertThat(mode.message()).contains("execution_mode").contains("sync, async, fast");
    Reply type = admin(HttpMethod.POST, "/deployments", new JsonObject().put("flow_id", flowId)
        .put("deployment_type", "edge"));
    assertThat(type.message()).contains("deployment_type").contains("api, server");
  }

  @Test
  void an_unknown_flow_is_404_with_a_clear_sentence() {
    String unknown = UUID.randomUUID().toString();
    Reply reply = admin(HttpMethod.POST, "/deployments", new JsonObject().put("flow_id", unknown));
    assertThat(reply.status()).isEqualTo(404);
    assertThat(reply.problemCode()).isEqualTo("not_found");
    assertThat(reply.message()).contains(unknown).contains("flow");
  }

  @Test
  void lists_patches_redeploys_and_deletes_a_deployment() {
    String flowId = newFlow(ADMIN_TOKEN, SampleFlows.greeting("cycle-of-life"));
    JsonObject created = newDeployment(ADMIN_TOKEN, flowId);
    String id = created.getString("id");

    JsonArray items = admin(HttpMethod.GET, "/deployments").data().getJsonArray("items");
    assertThat(items.stream().map(i -> ((JsonObject) i).getString("id"))).contains(id);
    assertThat(items.encode()).doesNotContain(created.getString("api_key"));

    Reply patched = admin(HttpMethod.PATCH, "/deployments/" + id, new JsonObject().put("name", "renamed")
        .put("deployment_type", "server").put("timeout_seconds", 10));
    assertThat(patched.status()).isEqualTo(200);
    assertThat(patched.data().getString("name")).isEqualTo("renamed");
    assertThat(patched.data().getString("deployment_type")).isEqualTo("server");
    assertThat(patched.data().getString("execution_mode")).isEqualTo("sync");
    assertThat(patched.data().getInteger("timeout_seconds")).isEqualTo(10);
    Reply badPatch = admin(HttpMethod.PATCH, "/deployments/" + id, new JsonObject().put("execution_mode", "x"));
    assertThat(badPatch.status()).isEqualTo(400);

    admin(HttpMethod.PUT, "/flows/" + flowId, SampleFlows.greeting("cycle-of-life-2"));
    assertThat(admin(HttpMethod.GET, "/deployments/" + id).data().getInteger("flow_version")).isEqualTo(1);
    Reply redeployed = admin(HttpMethod.POST, "/deployments/" + id + "/redeploy");
    assertThat(redeployed.status()).isEqualTo(200);
    assertThat(redeployed.data().getInteger("flow_version")).isEqualTo(2);

    assertThat(admin(HttpMethod.DELETE, "/deployments/" + id).status()).isEqualTo(204);
    assertThat(admin(HttpMethod.GET, "/deployments/" + id).status()).isEqualTo(404);
    assertThat(admin(HttpMethod.DELETE, "/deployments/" + id).status()).isEqualTo(404);
  }

  @Test
  void adds_another_key_to_a_deployment_shown_once() {
    String flowId = newFlow(ADMIN_TOKEN, SampleFlows.greeting("two-keys"));
    String id = newDeployment(ADMIN_TOKEN, flowId).getString("id");
    Reply reply = admin(HttpMethod.POST, "/deployments/" + id + "/api-keys", new JsonObject().put("name", "ci"));
    assertThat(reply.status()).isEqualTo(201);
    JsonObject key = reply.data();
    assertThat(ApiKeys.wellFormed(key.getString("api_key"))).isTrue();
    assertThat(key.getString("deployment_id")).isEqualTo(id);
    assertThat(key.getString("name")).isEqualTo("ci");
    JsonArray keys = admin(HttpMethod.GET, "/deployments/" + id + "/api-keys").data().getJsonArray("items");
    assertThat(keys).hasSize(2);
    assertThat(keys.encode()).doesNotContain(key.getString("api_key"));
    Reply noBody = admin(HttpMethod.POST, "/deployments/" + id + "/api-keys");
    assertThat(noBody.status()).isEqualTo(201);
  }

  @Test
  void a_non_uuid_or_unknown_id_is_404_on_every_route() {
    for (String id : new String[] {"nope", "12345", UUID.randomUUID().toString()}) {
      assertThat(admin(HttpMethod.GET, "/deployments/" + id).status()).as(id).isEqualTo(404);
      assertThat(admin(HttpMethod.PATCH, "/deployments/" + id, new JsonObject().put("name", "x")).status()).as(id)
          .isEqualTo(404);
      assertThat(admin(HttpMethod.DELETE, "/deployments/" + id).status()).as(id).isEqualTo(404);
      assertThat(admin(HttpMethod.POST, "/deployments/" + id + "/redeploy").status()).as(id).isEqualTo(404);
      assertThat(admin(HttpMethod.POST, "/deployments/" + id + "/api-keys").status()).as(id).isEqualTo(404);
    }
    Reply reply = admin(HttpMethod.GET, "/deployments/nope");
    assertThat(reply.problemCode()).isEqualTo("not_found");
  }

  @Test
  void a_deployment_body_of_another_media_type_is_415() {
    Reply reply = callRaw(HttpMethod.POST, "/deployments", ADMIN_TOKEN, "flow_id=x",
        "application/x-www-form-urlencoded");
    assertThat(reply.status()).isEqualTo(415);
    assertThat(reply.problemCode()).isEqualTo("unsupported_media_type");
  }
}
