package io.flowgate.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.deployments.SampleFlows;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class FlowsApiTest extends ControlApiTestBase {

  @Test
  void creates_a_flow_and_answers_201_with_its_version() {
    Reply reply = admin(HttpMethod.POST, "/flows", SampleFlows.greeting("score-customer"));
    assertThat(reply.status()).isEqualTo(201);
    JsonObject flow = reply.data();
    assertThat(flow.fieldNames()).contains("id", "name", "version", "nodes", "edges", "created_at", "updated_at");
    assertThat(flow.getString("name")).isEqualTo("score-customer");
    assertThat(flow.getInteger("version")).isEqualTo(1);
    assertThat(flow.getJsonArray("nodes")).hasSize(3);
    assertThat(reply.headers().get("X-Request-Id")).isNotBlank();
  }

  @Test
  void lists_reads_replaces_and_deletes_a_flow() {
    String id = newFlow(ADMIN_TOKEN, SampleFlows.greeting("lifecycle"));

    JsonArray items = admin(HttpMethod.GET, "/flows").data().getJsonArray("items");
    assertThat(items.stream().map(i -> ((JsonObject) i).getString("id"))).contains(id);

    Reply read = admin(HttpMethod.GET, "/flows/" + id);
    assertThat(read.status()).isEqualTo(200);
    assertThat(read.data().getString("name")).isEqualTo("lifecycle");

    JsonObject changed = read.data().put("name", "lifecycle-2");
    Reply replaced = admin(HttpMethod.PUT, "/flows/" + id, changed);
    assertThat(replaced.status()).isEqualTo(200);
    assertThat(replaced.data().getInteger("version")).isEqualTo(2);
    assertThat(replaced.data().getString("name")).isEqualTo("lifecycle-2");
    assertThat(admin(HttpMethod.GET, "/flows/" + id).data().getInteger("version")).isEqualTo(2);

    Reply deleted = admin(HttpMethod.DELETE, "/flows/" + id);
    assertThat(deleted.status()).isEqualTo(204);
    assertThat(deleted.body() == null || deleted.body().length() == 0).isTrue();
    Reply gone = admin(HttpMethod.GET, "/flows/" + id);
    assertThat(gone.status()).isEqualTo(404);
    assertThat(gone.problemCode()).isEqualTo("not_found");
  }

  @Test
  void deleting_a_flow_in_use_is_409_naming_the_deployment() {
    String id = newFlow(ADMIN_TOKEN, SampleFlows.greeting("busy"));
    JsonObject deployment = newDeployment(ADMIN_TOKEN, id);
    Reply reply = admin(HttpMethod.DELETE, "/flows/" + id);
    assertThat(reply.status()).isEqualTo(409);
    assertThat(reply.problemCode()).isEqualTo("conflict");
    assertThat(reply.message()).contains(deployment.getString("id"));
  }

  @Test
  void two_api_inputs_are_400_invalid_flow() {
    assertInvalidFlow(SampleFlows.twoApiInputs(), "api_input", null);
  }

  @Test
  void a_flow_without_api_input_is_400_invalid_flow() {
    assertInvalidFlow(SampleFlows.noApiInput(), "api_input", null);
  }

  @Test
  void a_cycle_is_400_invalid_flow() {
    assertInvalidFlow(SampleFlows.cycle(), "cycle", null);
  }

  @Test
  void an_unknown_type_is_400_naming_the_node() {
    assertInvalidFlow(SampleFlows.unknownType(), "teleport", "greet");
  }

  @Test
  void a_dangling_edge_is_400_naming_the_missing_node() {
    assertInvalidFlow(SampleFlows.danglingEdge(), "ghost", null);
  }

  @Test
  void a_bad_expression_is_400_naming_the_node() {
    assertInvalidFlow(SampleFlows.badExpression(), "greet", "greet");
  }

  @Test
  void an_invalid_replacement_keeps_the_old_version() {
    String id = newFlow(ADMIN_TOKEN, SampleFlows.greeting("stable"));
    Reply reply = admin(HttpMethod.PUT, "/flows/" + id, SampleFlows.cycle());
    assertThat(reply.status()).isEqualTo(400);
    assertThat(reply.problemCode()).isEqualTo("invalid_flow");
    assertThat(admin(HttpMethod.GET, "/flows/" + id).data().getInteger("version")).isEqualTo(1);
  }

  @Test
  void a_flow_without_a_name_is_400_invalid_request() {
    JsonObject flow = SampleFlows.greeting("x");
    flow.remove("name");
    Reply reply = admin(HttpMethod.POST, "/flows", flow);
    assertThat(reply.status()).isEqualTo(400);
    assertThat(reply.problemCode()).isEqualTo("invalid_request");
    assertThat(reply.message()).contains("name");
  }

  @Test
  void a_body_that_is_not_json_is_400_invalid_json() {
    Reply reply = callRaw(HttpMethod.POST, "/flows", ADMIN_TOKEN, "{\"name\": ", "application/json");
    assertThat(reply.status()).isEqualTo(400);
    assertThat(reply.problemCode()).isEqualTo("invalid_json");
  }

  @Test
  void a_json_array_body_is_400_invalid_json() {
    Reply reply = callRaw(HttpMethod.POST, "/flows", ADMIN_TOKEN, "[1, 2]", "application/json");
    assertThat(reply.status()).isEqualTo(400);
    assertThat(reply.problemCode()).isEqualTo("invalid_json");
  }

  @Test
  void a_body_of_another_media_type_is_415() {
    Reply reply = callRaw(HttpMethod.POST, "/flows", ADMIN_TOKEN, SampleFlows.greeting("x").encode(), "text/plain");
    assertThat(reply.status()).isEqualTo(415);
    assertThat(reply.problemCode()).isEqualTo("unsupported_media_type");
    assertThat(reply.message()).contains("application/json");
  }

  @Test
  void a_json_media_type_with_charset_is_accepted() {
    Reply reply = callRaw(HttpMethod.POST, "/flows", ADMIN_TOKEN, SampleFlows.greeting("charset").encode(),
        "application/json; charset=utf-8");
    assertThat(reply.status()).isEqualTo(201);
  }

  @Test
  void a_body_over_one_mebibyte_is_413() {
    String big = "{\"name\": \"" + "x".repeat(1100 * 1024) + "\"}";
    Reply reply = callRaw(HttpMethod.POST, "/flows", ADMIN_TOKEN, big, "application/json");
    assertThat(reply.status()).isEqualTo(413);
    assertThat(reply.problemCode()).isEqualTo("payload_too_large");
  }

  @Test
  void a_non_uuid_id_is_404_not_found() {
    for (HttpMethod method : new HttpMethod[] {HttpMethod.GET, HttpMethod.DELETE}) {
      Reply reply = admin(method, "/flows/not-a-uuid");
      assertThat(reply.status()).isEqualTo(404);
      assertThat(reply.problemCode()).isEqualTo("not_found");
    }
    Reply put = admin(HttpMethod.PUT, "/flows/1-2-3-4-5", SampleFlows.greeting("x"));
    assertThat(put.status()).isEqualTo(404);
  }

  @Test
  void an_unknown_id_is_404_not_found() {
    Reply reply = admin(HttpMethod.GET, "/flows/" + UUID.randomUUID());
    assertThat(reply.status()).isEqualTo(404);
    assertThat(reply.problemCode()).isEqualTo("not_found");
    assertThat(admin(HttpMethod.PUT, "/flows/" + UUID.randomUUID(), SampleFlows.greeting("x")).status())
        .isEqualTo(404);
    assertThat(admin(HttpMethod.DELETE, "/flows/" + UUID.randomUUID()).status()).isEqualTo(404);
  }

  private void assertInvalidFlow(JsonObject flow, String messageContains, String nodeId) {
    Reply reply = admin(HttpMethod.POST, "/flows", flow);
    assertThat(reply.status()).as("reply %s", reply.body()).isEqualTo(400);
    assertThat(reply.problemCode()).isEqualTo("invalid_flow");
    assertThat(reply.message()).contains(messageContains);
    JsonArray details = reply.json().getJsonArray("details");
    assertThat(details).hasSize(1);
    assertThat(details.getJsonObject(0).getString("message")).isEqualTo(reply.message());
    if (nodeId != null) {
      assertThat(details.getJsonObject(0).getString("node_id")).isEqualTo(nodeId);
    }
  }
}
