package io.flowgate.control;

import io.flowgate.control.CodeLiterals.Style;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * A Postman Collection v2.1 for one deployment, runnable as it is by Postman's runner or {@code newman run}: collection
 * variables {@code baseUrl} and {@code apiKey} (masked: set the real key in an environment or with
 * {@code --env-var apiKey=sk-…}), the requests that fit the deployment (trigger and poll for sync and async runs, the
 * prediction for Fast Mode, a trigger without a key) and {@code pm.test} assertions on each answer's status and
 * envelope. Pure; any thread.
 */
final class PostmanCollection {
  static final String SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json";
  static final String TRIGGER = "Trigger the deployment";
  static final String POLL = "Poll the run until it ends";
  static final String NO_KEY = "Trigger without an API key is refused";
  /** How often the poll request repeats itself while the run has not ended (each holds up to 30 s). */
  static final int MAX_POLLS = 10;

  private PostmanCollection() {
  }

  static JsonObject of(Integration d) {
    JsonArray items = new JsonArray();
    switch (d.mode()) {
      case SYNC -> items.add(trigger(d, SYNC_TESTS)).add(poll(d));
      case ASYNC -> items.add(trigger(d, ASYNC_TESTS)).add(poll(d));
      case FAST -> items.add(trigger(d, FAST_TESTS));
      default -> throw new IllegalStateException("unhandled mode " + d.mode());
    }
    items.add(noKey(d));
    String description = "Calls the flowgate deployment " + d.name() + " (" + d.deploymentId() + "; execution_mode "
        + d.mode().wire() + ", deployment_type " + d.type().wire() + ") with its API Input node's test data. "
        + "Set apiKey to the deployment's full API key (the collection holds it masked): in an environment, or "
        + "`newman run <file> --env-var apiKey=sk-...`.";
    return new JsonObject()
        .put("info", new JsonObject()
            .put("_postman_id", d.deploymentId().toString())
            .put("name", "flowgate: " + d.name())
            .put("description", description)
            .put("schema", SCHEMA))
        .put("variable", new JsonArray()
            .add(variable("baseUrl", d.baseUrl()))
            .add(variable("apiKey", d.keyForCode()))
            .add(variable("flowRunId", "")))
        .put("item", items);
  }

  private static JsonObject variable(String key, String value) {
    return new JsonObject().put("key", key).put("value", value).put("type", "string");
  }

  private static JsonObject trigger(Integration d, List<String> tests) {
    JsonObject request = new JsonObject()
        .put("method", "POST")
        .put("header", new JsonArray()
            .add(header("X-API-Key", "{{apiKey}}"))
            .add(header("Content-Type", "application/json")))
        .put("body", new JsonObject()
            .put("mode", "raw")
            .put("raw", CodeLiterals.render(d.triggerBody(), Style.JSON, 2, 0, false))
            .put("options", new JsonObject().put("raw", new JsonObject().put("language", "json"))))
        .put("url", "{{baseUrl}}" + d.triggerPath())
        .put("description", switch (d.mode()) {
          case SYNC -> "Runs the flow with the test data and answers 200 with the run once it has ended.";
          case ASYNC -> "Starts a run with the test data and answers 202 at once; the next request polls it.";
          case FAST -> "Forwards the test data to the inference server and answers 200 with its prediction.";
        });
    return item(TRIGGER, request, tests);
  }

  private static JsonObject poll(Integration d) {
    JsonObject request = new JsonObject()
        .put("method", "GET")
        .put("header", new JsonArray().add(header("X-API-Key", "{{apiKey}}")))
        .put("url", "{{baseUrl}}/node/flow-runs/{{flowRunId}}/?wait=" + ExampleCode.POLL_WAIT_SECONDS)
        .put("description", "Reads the run; wait=" + ExampleCode.POLL_WAIT_SECONDS + " answers as soon as it ends.");
    return item(POLL, request, POLL_TESTS);
  }

  private static JsonObject noKey(Integration d) {
    JsonObject request = new JsonObject()
        .put("method", "POST")
        .put("header", new JsonArray().add(header("Content-Type", "application/json")))
        .put("body", new JsonObject().put("mode", "raw").put("raw", "{\"input_data\": {}}")
            .put("options", new JsonObject().put("raw", new JsonObject().put("language", "json"))))
        .put("url", "{{baseUrl}}" + d.triggerPath())
        .put("description", "Errors are RFC 9457 problem details with a code and a message.");
    return item(NO_KEY, request, NO_KEY_TESTS);
  }

  private static JsonObject header(String key, String value) {
    return new JsonObject().put("key", key).put("value", value).put("type", "text");
  }

  private static JsonObject item(String name, JsonObject request, List<String> tests) {
    return new JsonObject()
        .put("name", name)
        .put("event", new JsonArray().add(new JsonObject()
            .put("listen", "test")
            .put("script", new JsonObject().put("type", "text/javascript").put("exec", new JsonArray(tests)))))
        .put("request", request);
  }

  private static final List<String> ENVELOPE = lines("""
      pm.test("answers with the success envelope", function () {
        pm.expect(pm.response.headers.get("Content-Type")).to.include("application/json");
        const body = pm.response.json();
        pm.expect(body.status).to.eql("success");
        pm.expect(body.data).to.be.an("object");
      });
      """);

  private static final List<String> SYNC_TESTS = concat(lines("""
      pm.test("answers 200", function () {
        pm.response.to.have.status(200);
      });
      """), ENVELOPE, lines("""
      pm.test("the run completed with output_data", function () {
        const data = pm.response.json().data;
        pm.expect(data.status).to.eql("completed");
        pm.expect(data).to.have.property("output_data");
        pm.expect(data.flow_run_id).to.be.a("string");
        pm.collectionVariables.set("flowRunId", data.flow_run_id);
      });
      """));

  private static final List<String> ASYNC_TESTS = concat(lines("""
      pm.test("answers 202 with a Location to poll", function () {
        pm.response.to.have.status(202);
        pm.expect(pm.response.headers.get("Location")).to.match(/^\\/node\\/flow-runs\\//);
      });
      """), ENVELOPE, lines("""
      pm.test("the run is accepted with its flow_run_id and poll_url", function () {
        const data = pm.response.json().data;
        pm.expect(["queued", "running", "completed"]).to.include(data.status);
        pm.expect(data.flow_run_id).to.be.a("string");
        pm.expect(data.poll_url).to.eql("/node/flow-runs/" + data.flow_run_id + "/");
        pm.collectionVariables.set("flowRunId", data.flow_run_id);
        pm.collectionVariables.set("polls", "0");
      });
      """));

  private static final List<String> POLL_TESTS = concat(lines("""
      pm.test("answers 200", function () {
        pm.response.to.have.status(200);
      });
      """), ENVELOPE, lines("""
      const run = pm.response.json().data;
      const polls = Number(pm.collectionVariables.get("polls") || "0") + 1;
      pm.collectionVariables.set("polls", String(polls));
      if (!["completed", "failed", "timed_out", "cancelled"].includes(run.status) && polls < %d) {
        // Not ended within this poll's wait: poll again.
        if (pm.execution && pm.execution.setNextRequest) {
          pm.execution.setNextRequest(pm.info.requestName);
        } else {
          postman.setNextRequest(pm.info.requestName);
        }
      } else {
        pm.test("the run completed with output_data", function () {
          pm.expect(run.flow_run_id).to.eql(pm.collectionVariables.get("flowRunId"));
          pm.expect(run.status).to.eql("completed");
          pm.expect(run).to.have.property("output_data");
        });
      }
      """.formatted(MAX_POLLS)));

  private static final List<String> FAST_TESTS = concat(lines("""
      const retries = Number(pm.collectionVariables.get("retries") || "0");
      if (pm.response.code === 503 && retries < %d) {
        // The inference server is booting: wait as long as Retry-After says, then send this request again.
        pm.collectionVariables.set("retries", String(retries + 1));
        const seconds = Number(pm.response.headers.get("Retry-After") || "5");
        setTimeout(function () {}, seconds * 1000);
        if (pm.execution && pm.execution.setNextRequest) {
          pm.execution.setNextRequest(pm.info.requestName);
        } else {
          postman.setNextRequest(pm.info.requestName);
        }
      } else {
        pm.test("answers 200", function () {
          pm.response.to.have.status(200);
        });
      """.formatted(ExampleCode.FAST_RETRIES)), indent(ENVELOPE), lines("""
        pm.test("the prediction is in output_data", function () {
          const data = pm.response.json().data;
          pm.expect(data.status).to.eql("completed");
          pm.expect(data.fast_mode).to.eql(true);
          pm.expect(data.output_data).to.be.an("object");
        });
      }
      """));

  private static final List<String> NO_KEY_TESTS = lines("""
      pm.test("answers 401 missing_api_key as problem+json", function () {
        pm.response.to.have.status(401);
        pm.expect(pm.response.headers.get("Content-Type")).to.include("application/problem+json");
        const problem = pm.response.json();
        pm.expect(problem.code).to.eql("missing_api_key");
        pm.expect(problem.status).to.eql(401);
        pm.expect(problem.message).to.be.a("string").and.not.be.empty;
      });
      """);

  private static List<String> lines(String text) {
    return List.of(text.stripTrailing().split("\n", -1));
  }

  private static List<String> indent(List<String> lines) {
    return lines.stream().map(l -> "  " + l).toList();
  }

  @SafeVarargs
  private static List<String> concat(List<String>... parts) {
    return java.util.Arrays.stream(parts).flatMap(List::stream).toList();
  }
}
