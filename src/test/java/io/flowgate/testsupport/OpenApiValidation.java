package io.flowgate.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.json.schema.JsonSchemaValidationException;
import io.vertx.openapi.contract.OpenAPIVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Validates OpenAPI documents the way vertx-openapi loads a contract: against the official OpenAPI 3.1 JSON Schema,
 * every Schema Object against JSON Schema 2020-12 (networknt), then resolving every {@code $ref}. vertx-openapi's last
 * step, building its request/response validator model, refuses media types it cannot validate at run time (such as
 * {@code application/problem+json}), which is a limit of that runtime, not of the document: {@link #contract} builds
 * the model from a copy with those renamed. Blocking: JUnit thread only.
 */
public final class OpenApiValidation {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Schema META_SCHEMA = metaSchema();

  private OpenApiValidation() {
  }

  /** The document with every {@code $ref} resolved; throws with the validator's findings when it is not valid. */
  public static JsonObject validate(Vertx vertx, JsonObject document) {
    JsonObject doc = document.copy();
    OpenAPIVersion version = OpenAPIVersion.fromContract(doc);
    if (version != OpenAPIVersion.V3_1) {
      throw new AssertionError("not an OpenAPI 3.1 document: " + doc.getValue("openapi"));
    }
    return await(version.getRepository(vertx, "app://")
        .compose(repository -> version.validateContract(vertx, repository, doc)
            .compose(result -> {
              try {
                result.checkValidity();
              } catch (JsonSchemaValidationException e) {
                return Future.failedFuture(new AssertionError("not valid OpenAPI 3.1: " + e.getMessage() + " at "
                    + e.location(), e));
              }
              List<String> problems = schemaProblems(doc);
              if (!problems.isEmpty()) {
                return Future.failedFuture(new AssertionError("not valid OpenAPI 3.1: Schema Objects that are not "
                    + "JSON Schema 2020-12: " + problems));
              }
              return version.resolve(vertx, repository, doc);
            })));
  }

  /**
   * The official schema takes any object as a Schema Object (its strict variant needs {@code $dynamicRef}, which the
   * validator above does not follow), so each Schema Object is also checked against the JSON Schema 2020-12
   * meta-schema, the base of OpenAPI 3.1's dialect.
   */
  static List<String> schemaProblems(JsonObject doc) {
    List<String> problems = new ArrayList<>();
    JsonObject schemas = doc.getJsonObject("components", new JsonObject()).getJsonObject("schemas", new JsonObject());
    for (String name : schemas.fieldNames()) {
      check("#/components/schemas/" + name, schemas.getValue(name), problems);
    }
    collectInline("#", doc, problems);
    return problems;
  }

  private static void collectInline(String where, Object node, List<String> problems) {
    if (node instanceof JsonObject o) {
      for (String key : o.fieldNames()) {
        if (key.equals("schema") && !where.startsWith("#/components/schemas")) {
          check(where + "/schema", o.getValue(key), problems);
        } else {
          collectInline(where + "/" + key, o.getValue(key), problems);
        }
      }
    } else if (node instanceof JsonArray a) {
      for (int i = 0; i < a.size(); i++) {
        collectInline(where + "/" + i, a.getValue(i), problems);
      }
    }
  }

  private static void check(String where, Object schema, List<String> problems) {
    try {
      JsonNode node = JSON.readTree(schema instanceof JsonObject o ? o.encode() : String.valueOf(schema));
      for (com.networknt.schema.Error error : META_SCHEMA.validate(node)) {
        problems.add(where + error.getInstanceLocation() + ": " + error.getMessage());
      }
    } catch (java.io.IOException e) {
      problems.add(where + ": " + e.getMessage());
    }
  }

  /** The contract for vertx-openapi's request validator; see the class comment for the media types renamed. */
  public static OpenAPIContract contract(Vertx vertx, JsonObject document) {
    JsonObject copy = document.copy();
    renameProblemJson(copy);
    return await(OpenAPIContract.from(vertx, copy));
  }

  private static void renameProblemJson(Object node) {
    if (node instanceof JsonObject o) {
      Object problem = o.remove("application/problem+json");
      if (problem != null && !o.containsKey("application/json")) {
        o.put("application/json", problem);
      }
      for (String key : o.fieldNames()) {
        renameProblemJson(o.getValue(key));
      }
    } else if (node instanceof JsonArray a) {
      a.forEach(OpenApiValidation::renameProblemJson);
    }
  }

  private static Schema metaSchema() {
    Schema meta = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
        .getSchema(SchemaLocation.of(SpecificationVersion.DRAFT_2020_12.getDialectId()));
    meta.initializeValidators();
    return meta;
  }

  private static <T> T await(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new AssertionError("OpenAPI validation failed: " + e.getCause(), e.getCause());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
