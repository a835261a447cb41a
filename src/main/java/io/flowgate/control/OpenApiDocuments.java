package io.flowgate.control;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.flowgate.deployments.ExecutionMode;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The OpenAPI 3.1 documents: the whole API (the resource {@value #RESOURCE}, YAML for people to edit, read once into
 * JSON) and the document of one deployment, cut from it: the data-plane operations that deployment answers, with
 * {@code input_data} typed by its API Input node's JSON Schema and its test data as the example, and only the
 * components they reference. Building copies and walks the document: call from a worker thread. Thread-safe.
 */
final class OpenApiDocuments {
  static final String RESOURCE = "openapi/flowgate.yaml";
  static final String TRIGGER_PATH = "/node/deployment-trigger/{deployment_id}/";
  static final String POLL_PATH = "/node/flow-runs/{flow_run_id}/";
  static final String CANCEL_PATH = "/node/flow-runs/{flow_run_id}/cancel";
  private static final String SCHEMAS_REF = "#/components/schemas/";
  private static final String INPUT_DATA_REF = SCHEMAS_REF + "InputData";

  private static volatile JsonObject whole;

  private OpenApiDocuments() {
  }

  /** The whole API as shipped (shared: never modify it; {@link JsonObject#copy()} first). Reads it once. */
  static JsonObject whole() {
    JsonObject doc = whole;
    if (doc == null) {
      synchronized (OpenApiDocuments.class) {
        doc = whole;
        if (doc == null) {
          doc = load();
          whole = doc;
        }
      }
    }
    return doc;
  }

  @SuppressWarnings("unchecked")
  private static JsonObject load() {
    try (InputStream in = OpenApiDocuments.class.getClassLoader().getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " missing from the classpath (a broken build)");
      }
      // copy(): nested maps and lists become JsonObject and JsonArray all the way down.
      return new JsonObject(new ObjectMapper(new YAMLFactory()).readValue(in, Map.class)).copy();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RESOURCE, e);
    }
  }

  /** The whole API with {@code servers} naming {@code baseUrl}. */
  static JsonObject wholeFor(String baseUrl) {
    return whole().copy().put("servers", servers(baseUrl));
  }

  private static JsonArray servers(String baseUrl) {
    return new JsonArray().add(new JsonObject().put("url", baseUrl));
  }

  /** The document of one deployment. */
  static JsonObject deployment(Integration d) {
    JsonObject source = whole();
    JsonObject sourcePaths = source.getJsonObject("paths");
    JsonObject trigger = sourcePaths.getJsonObject(TRIGGER_PATH).getJsonObject("post").copy();
    // The path names this deployment: no deployment_id parameter is left to fill in.
    JsonArray parameters = new JsonArray();
    for (Object p : trigger.getJsonArray("parameters")) {
      if (!((JsonObject) p).getString("$ref", "").endsWith("/DeploymentId")) {
        parameters.add(p);
      }
    }
    trigger.put("parameters", parameters);
    JsonObject responses = trigger.getJsonObject("responses");
    for (String status : dropped(d.mode())) {
      responses.remove(status);
    }
    if (!d.rateLimited()) {
      responses.remove("429");
    }
    trigger.put("description", describe(d));

    JsonObject paths = new JsonObject().put(d.triggerPath(), new JsonObject().put("post", trigger));
    if (d.mode() != ExecutionMode.FAST) {
      paths.put(POLL_PATH, sourcePaths.getJsonObject(POLL_PATH).copy());
      paths.put(CANCEL_PATH, sourcePaths.getJsonObject(CANCEL_PATH).copy());
    }

    JsonObject sourceComponents = source.getJsonObject("components");
    JsonObject components = new JsonObject();
    // This deployment's own versions of the components that differ per deployment.
    JsonObject overrides = new JsonObject()
        .put("schemas", new JsonObject()
            .put("InputData", inputSchema(d.inputSchema()))
            .put("TriggerRequest", new JsonObject()
                .put("type", "object")
                .put("properties", new JsonObject().put("input_data", new JsonObject().put("$ref", INPUT_DATA_REF)))
                .put("examples", new JsonArray().add(d.triggerBody()))))
        .put("responses", new JsonObject().put("TriggerCompleted", completed(sourceComponents, d.mode())));
    copyReferenced(new JsonObject().put("paths", paths).put("overrides", overrides), sourceComponents, overrides,
        components);
    components.put("securitySchemes", new JsonObject().put("ApiKey",
        sourceComponents.getJsonObject("securitySchemes").getJsonObject("ApiKey").copy()));

    return new JsonObject()
        .put("openapi", source.getString("openapi"))
        .put("info", new JsonObject()
            .put("title", d.name())
            .put("version", d.flowVersion() == null ? "1" : "flow version " + d.flowVersion())
            .put("description", "The flowgate deployment " + d.name() + " (" + d.deploymentId() + "): "
                + d.mode().wire() + " execution, " + d.type().wire() + " deployment. Call it with its API key in "
                + "X-API-Key; successes come in the envelope {\"status\": \"success\", \"data\": ...}, errors as "
                + "RFC 9457 problem details with a code and a message."))
        .put("servers", servers(d.baseUrl()))
        .put("security", new JsonArray().add(new JsonObject().put("ApiKey", new JsonArray())))
        .put("paths", paths)
        .put("components", components);
  }

  /** The response codes the deployment's mode never answers. */
  private static List<String> dropped(ExecutionMode mode) {
    return switch (mode) {
      // A flow's inference node failing fails the run (500 flow_failed); 502 is Fast Mode's.
      case SYNC -> List.of("502");
      case ASYNC -> List.of("200", "500", "502", "504");
      case FAST -> List.of("202", "409", "500");
    };
  }

  private static String describe(Integration d) {
    return switch (d.mode()) {
      case SYNC -> "Runs the flow with input_data and answers 200 with the ended run (Prefer: respond-async or "
          + "wait=N answer 202 instead, and the run goes on). The run times out after " + d.timeoutSeconds()
          + " s (504 run_timeout).";
      case ASYNC -> "Starts a run with input_data and answers 202 at once; poll poll_url (GET "
          + "/node/flow-runs/{flow_run_id}/?wait=30) until its status is completed, failed, timed_out or cancelled.";
      case FAST -> "Forwards input_data to the deployment's inference server and answers 200 with its prediction "
          + "in output_data; 503 inference_booting (retry after Retry-After) while it boots.";
    };
  }

  private static JsonObject completed(JsonObject sourceComponents, ExecutionMode mode) {
    JsonObject response = sourceComponents.getJsonObject("responses").getJsonObject("TriggerCompleted").copy();
    String schema = mode == ExecutionMode.FAST ? "FastResultEnvelope" : "RunEnvelope";
    response.put("description", mode == ExecutionMode.FAST ? "The prediction." : "The ended run.");
    response.getJsonObject("content").getJsonObject("application/json")
        .put("schema", new JsonObject().put("$ref", SCHEMAS_REF + schema));
    return response;
  }

  /**
   * The API Input node's schema as the OpenAPI component {@code InputData}: none (or {@code true}) means any object;
   * references inside it to its own root ({@code #...}) are re-rooted at the component, unless it declares an
   * {@code $id} of its own (then they resolve against that).
   */
  static Object inputSchema(Object schema) {
    if (schema == null || Boolean.TRUE.equals(schema)) {
      return new JsonObject().put("type", "object");
    }
    if (!(schema instanceof JsonObject object)) {
      return schema;
    }
    JsonObject copy = object.copy();
    if (copy.getValue("$id") == null) {
      reroot(copy);
    }
    return copy;
  }

  private static void reroot(Object node) {
    if (node instanceof JsonObject o) {
      for (String key : List.copyOf(o.fieldNames())) {
        Object value = o.getValue(key);
        if ((key.equals("$ref") || key.equals("$dynamicRef")) && value instanceof String ref
            && (ref.equals("#") || ref.startsWith("#/")) && !ref.startsWith("#/components/")) {
          // "#" and "#/$defs/x" point into the input schema; an anchor ("#name") resolves anywhere in the resource.
          o.put(key, INPUT_DATA_REF + ref.substring(1));
        } else {
          reroot(value);
        }
      }
    } else if (node instanceof JsonArray a) {
      for (Object item : a) {
        reroot(item);
      }
    }
  }

  /**
   * Copies into {@code target} every component that {@code roots} references, directly or through other components,
   * taking {@code overrides} before {@code source}.
   */
  private static void copyReferenced(JsonObject roots, JsonObject source, JsonObject overrides, JsonObject target) {
    Deque<Object> pending = new ArrayDeque<>();
    pending.push(roots);
    Set<String> seen = new LinkedHashSet<>();
    while (!pending.isEmpty()) {
      Object node = pending.pop();
      if (node instanceof JsonObject o) {
        for (Map.Entry<String, Object> e : o) {
          if (e.getKey().equals("$ref") && e.getValue() instanceof String ref && ref.startsWith("#/components/")) {
            String[] parts = ref.substring("#/components/".length()).split("/");
            if (parts.length >= 2 && seen.add(parts[0] + "/" + parts[1])) {
              Object component = overrides.getJsonObject(parts[0], new JsonObject()).getValue(parts[1]);
              if (component == null) {
                component = source.getJsonObject(parts[0], new JsonObject()).getValue(parts[1]);
              }
              if (component != null) {
                Object copy = component instanceof JsonObject c ? c.copy() : component;
                JsonObject section = target.getJsonObject(parts[0]);
                if (section == null) {
                  section = new JsonObject();
                  target.put(parts[0], section);
                }
                section.put(parts[1], copy);
                pending.push(copy);
              }
            }
          } else if (e.getValue() != null) {
            pending.push(e.getValue());
          }
        }
      } else if (node instanceof JsonArray a) {
        for (Object item : a) {
          if (item != null) {
            pending.push(item);
          }
        }
      }
    }
  }
}
