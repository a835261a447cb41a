package io.flowgate.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.deployments.DeploymentType;
import io.flowgate.deployments.ExecutionMode;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class OpenApiDocumentsTest {

  @Test
  void no_schema_or_true_means_any_object() {
    assertThat(OpenApiDocuments.inputSchema(null)).isEqualTo(new JsonObject().put("type", "object"));
    assertThat(OpenApiDocuments.inputSchema(Boolean.TRUE)).isEqualTo(new JsonObject().put("type", "object"));
    assertThat(OpenApiDocuments.inputSchema(Boolean.FALSE)).isEqualTo(Boolean.FALSE);
  }

  @Test
  void local_references_are_rerooted_at_the_component_and_the_source_is_left_alone() {
    JsonObject schema = new JsonObject()
        .put("properties", new JsonObject()
            .put("a", new JsonObject().put("$ref", "#/$defs/a"))
            .put("self", new JsonObject().put("$ref", "#"))
            .put("anchored", new JsonObject().put("$ref", "#thing"))
            .put("remote", new JsonObject().put("$ref", "https://example.com/s.json"))
            .put("all", new JsonObject().put("allOf", new JsonArray().add(new JsonObject().put("$ref",
                "#/$defs/a")))))
        .put("$defs", new JsonObject().put("a", new JsonObject().put("type", "string")));
    JsonObject moved = (JsonObject) OpenApiDocuments.inputSchema(schema);
    JsonObject properties = moved.getJsonObject("properties");
    assertThat(properties.getJsonObject("a").getString("$ref")).isEqualTo("#/components/schemas/InputData/$defs/a");
    assertThat(properties.getJsonObject("self").getString("$ref")).isEqualTo("#/components/schemas/InputData");
    assertThat(properties.getJsonObject("anchored").getString("$ref")).isEqualTo("#thing");
    assertThat(properties.getJsonObject("remote").getString("$ref")).isEqualTo("https://example.com/s.json");
    assertThat(properties.getJsonObject("all").getJsonArray("allOf").getJsonObject(0).getString("$ref"))
        .isEqualTo("#/components/schemas/InputData/$defs/a");
    assertThat(schema.getJsonObject("properties").getJsonObject("a").getString("$ref")).isEqualTo("#/$defs/a");
  }

  @Test
  void a_schema_with_its_own_id_keeps_its_references() {
    JsonObject schema = new JsonObject().put("$id", "https://example.com/input.json")
        .put("properties", new JsonObject().put("a", new JsonObject().put("$ref", "#/$defs/a")));
    assertThat(OpenApiDocuments.inputSchema(schema)).isEqualTo(schema);
  }

  @Test
  void the_whole_document_is_read_once_and_shared() {
    assertThat(OpenApiDocuments.whole()).isSameAs(OpenApiDocuments.whole());
    assertThat(OpenApiDocuments.wholeFor("https://api.example.com").getJsonArray("servers"))
        .containsExactly(new JsonObject().put("url", "https://api.example.com"));
    assertThat(OpenApiDocuments.whole().containsKey("servers")).isFalse();
  }

  @Test
  void a_deployment_without_a_rate_limit_is_not_documented_as_answering_429() {
    UUID id = UUID.randomUUID();
    String path = "/node/deployment-trigger/" + id + "/";
    for (boolean limited : new boolean[] {false, true}) {
      Integration d = new Integration(id, "d", ExecutionMode.SYNC, DeploymentType.SERVER, 1, "https://api.example.com",
          null, new JsonObject(), null, 60, limited);
      JsonObject responses = OpenApiDocuments.deployment(d).getJsonObject("paths").getJsonObject(path)
          .getJsonObject("post").getJsonObject("responses");
      assertThat(responses.containsKey("429")).isEqualTo(limited);
      assertThat(responses.containsKey("200")).isTrue();
    }
  }
}
