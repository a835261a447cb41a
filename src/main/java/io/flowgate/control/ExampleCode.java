package io.flowgate.control;

import io.flowgate.control.CodeLiterals.Style;
import io.flowgate.deployments.ExecutionMode;
import io.vertx.core.json.JsonObject;

/**
 * The cURL, Python ({@code requests}) and JavaScript ({@code fetch}) snippets for one deployment, shaped like the ones
 * aicuflow generates: a {@code trigger_deployment(input_data)} / {@code triggerDeployment(inputData)} function that
 * returns {@code result["data"]} and a usage example with the API Input node's test data that prints the status,
 * output and duration. Async deployments add a poll until the run ends; Fast Mode snippets retry while the inference
 * server boots (503 with {@code Retry-After}). Pure; any thread.
 */
final class ExampleCode {
  private static final String TERMINAL = "completed, failed, timed_out or cancelled";
  /** Long-poll hold of each poll ({@code ?wait=}); the gateway allows up to 60 s. */
  static final int POLL_WAIT_SECONDS = 30;
  /** How often the Fast Mode snippets retry a 503 (inference server booting or unavailable). */
  static final int FAST_RETRIES = 5;

  private ExampleCode() {
  }

  /** {@code {"curl", "python", "javascript"}}. */
  static JsonObject snippets(Integration d) {
    return new JsonObject().put("curl", curl(d)).put("python", python(d)).put("javascript", javascript(d));
  }

  static String curl(Integration d) {
    String body = CodeLiterals.render(d.triggerBody(), Style.JSON, 2, 0, false).replace("'", "'\\''");
    String trigger = "curl -X POST " + (d.mode() == ExecutionMode.FAST ? "--retry " + FAST_RETRIES + " " : "")
        + "\"" + d.triggerUrl() + "\" \\\n"
        + "  -H \"X-API-Key: " + d.keyForCode() + "\" \\\n"
        + "  -H \"Content-Type: application/json\" \\\n"
        + "  -d '" + body + "'\n";
    return switch (d.mode()) {
      case SYNC -> "# Waits for the run to finish and answers with its output\n" + trigger;
      case FAST -> "# Fast Mode: answers with the inference server's prediction; --retry waits out a booting server "
          + "(503, Retry-After)\n" + trigger;
      case ASYNC -> "# 1. Start a run: answers 202 at once with its flow_run_id and poll_url\n" + trigger + "\n"
          + "# 2. Poll it (put the flow_run_id from step 1 below) until \"status\" is " + TERMINAL + ";\n"
          + "#    wait=" + POLL_WAIT_SECONDS + " holds each answer until the run ends, for up to "
          + POLL_WAIT_SECONDS + " s\n"
          + "curl \"" + d.baseUrl() + "/node/flow-runs/<flow_run_id>/?wait=" + POLL_WAIT_SECONDS + "\" \\\n"
          + "  -H \"X-API-Key: " + d.keyForCode() + "\"\n";
    };
  }

  static String python(Integration d) {
    String input = CodeLiterals.render(d.testData(), Style.PYTHON, 4, 0, true);
    String name = pythonDocText(d.name());
    StringBuilder py = new StringBuilder();
    py.append(d.mode() == ExecutionMode.SYNC ? "" : "import time\n\n");
    py.append("import requests\n\n");
    py.append("API_KEY = \"").append(d.keyForCode()).append("\"\n");
    if (d.mode() == ExecutionMode.ASYNC) {
      py.append("API_BASE = \"").append(d.baseUrl()).append("\"\n");
      py.append("API_URL = API_BASE + \"").append(d.triggerPath()).append("\"\n");
    } else {
      py.append("API_URL = \"").append(d.triggerUrl()).append("\"\n");
    }
    py.append("\n\n");
    switch (d.mode()) {
      case SYNC -> py.append("""
          def trigger_deployment(input_data=None):
              \"\"\"Trigger the %s deployment - waits for completion and returns results\"\"\"
              response = requests.post(
                  API_URL,
                  headers={
                      "X-API-Key": API_KEY,
                      "Content-Type": "application/json"
                  },
                  json={
                      "input_data": input_data or {},
                  }
              )
              if response.ok:
                  result = response.json()
                  return result["data"]
              else:
                  raise Exception(f"API Error: {response.text}")


          # Usage example with test data
          result = trigger_deployment(%s)
          print(f"Status: {result['status']}")
          print(f"Output: {result['output_data']}")
          print(f"Duration: {result.get('duration_seconds')} seconds")
          """.formatted(name, input));
      case FAST -> py.append("""
          def trigger_deployment(input_data=None, retries=%d):
              \"\"\"Call the %s deployment (Fast Mode) - returns the inference server's prediction\"\"\"
              for attempt in range(retries + 1):
                  response = requests.post(
                      API_URL,
                      headers={
                          "X-API-Key": API_KEY,
                          "Content-Type": "application/json"
                      },
                      json={
                          "input_data": input_data or {},
                      }
                  )
                  if response.status_code == 503 and attempt < retries:
                      # The inference server is booting or briefly unavailable: wait as long as it says.
                      time.sleep(int(response.headers.get("Retry-After", "5")))
                      continue
                  if response.ok:
                      result = response.json()
                      return result["data"]
                  else:
                      raise Exception(f"API Error: {response.text}")


          # Usage example with test data
          result = trigger_deployment(%s)
          print(f"Status: {result['status']}")
          print(f"Output: {result['output_data']}")
          print(f"Duration: {result.get('duration_seconds')} seconds")
          """.formatted(FAST_RETRIES, name, input));
      case ASYNC -> py.append("""
          def trigger_deployment(input_data=None):
              \"\"\"Trigger the %s deployment - returns at once with the flow_run_id and poll_url\"\"\"
              response = requests.post(
                  API_URL,
                  headers={
                      "X-API-Key": API_KEY,
                      "Content-Type": "application/json"
                  },
                  json={
                      "input_data": input_data or {},
                  }
              )
              if response.ok:
                  result = response.json()
                  return result["data"]
              else:
                  raise Exception(f"API Error: {response.text}")


          def wait_for_result(poll_url, timeout_seconds=%d):
              \"\"\"Poll the run until it is %s, and return it\"\"\"
              deadline = time.monotonic() + timeout_seconds
              while True:
                  # wait=%d: the gateway answers as soon as the run ends, or after %d seconds
                  response = requests.get(
                      API_BASE + poll_url,
                      headers={"X-API-Key": API_KEY},
                      params={"wait": %d},
                      timeout=%d,
                  )
                  if not response.ok:
                      raise Exception(f"API Error: {response.text}")
                  result = response.json()["data"]
                  if result["status"] in ("completed", "failed", "timed_out", "cancelled"):
                      return result
                  if time.monotonic() > deadline:
                      raise Exception(f"Run {result['flow_run_id']} is still {result['status']}")


          # Usage example with test data
          run = trigger_deployment(%s)
          print(f"Started: {run['flow_run_id']} ({run['status']})")
          result = wait_for_result(run["poll_url"])
          print(f"Status: {result['status']}")
          print(f"Output: {result.get('output_data')}")
          print(f"Duration: {result.get('duration_seconds')} seconds")
          """.formatted(name, d.timeoutSeconds() + POLL_WAIT_SECONDS, TERMINAL, POLL_WAIT_SECONDS,
          POLL_WAIT_SECONDS, POLL_WAIT_SECONDS, POLL_WAIT_SECONDS * 2, input));
      default -> throw new IllegalStateException("unhandled mode " + d.mode());
    }
    return py.toString();
  }

  static String javascript(Integration d) {
    String input = CodeLiterals.render(d.testData(), Style.JAVASCRIPT, 2, 0, false);
    String name = jsCommentText(d.name());
    StringBuilder js = new StringBuilder();
    js.append("const API_KEY = \"").append(d.keyForCode()).append("\";\n");
    if (d.mode() == ExecutionMode.ASYNC) {
      js.append("const API_BASE = \"").append(d.baseUrl()).append("\";\n");
      js.append("const API_URL = API_BASE + \"").append(d.triggerPath()).append("\";\n");
    } else {
      js.append("const API_URL =\n  \"").append(d.triggerUrl()).append("\";\n");
    }
    js.append('\n');
    switch (d.mode()) {
      case SYNC -> js.append("""
          async function triggerDeployment(inputData = {}) {
            // Triggers the %s deployment: waits for completion and returns results
            const response = await fetch(API_URL, {
              method: "POST",
              headers: {
                "X-API-Key": API_KEY,
                "Content-Type": "application/json",
              },
              body: JSON.stringify({ input_data: inputData }),
            });
            const result = await response.json();
            if (result.status === "success") {
              return result.data;
            } else {
              throw new Error(`API Error: ${result.message}`);
            }
          }

          // Usage example with test data
          const result = await triggerDeployment(%s);
          console.log("Status:", result.status);
          console.log("Output:", result.output_data);
          console.log("Duration:", result.duration_seconds, "seconds");
          """.formatted(name, input));
      case FAST -> js.append("""
          async function triggerDeployment(inputData = {}, retries = %d) {
            // Calls the %s deployment (Fast Mode): returns the inference server's prediction
            for (let attempt = 0; ; attempt++) {
              const response = await fetch(API_URL, {
                method: "POST",
                headers: {
                  "X-API-Key": API_KEY,
                  "Content-Type": "application/json",
                },
                body: JSON.stringify({ input_data: inputData }),
              });
              if (response.status === 503 && attempt < retries) {
                // The inference server is booting or briefly unavailable: wait as long as it says.
                const seconds = Number(response.headers.get("Retry-After") || 5);
                await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
                continue;
              }
              const result = await response.json();
              if (result.status === "success") {
                return result.data;
              } else {
                throw new Error(`API Error: ${result.message}`);
              }
            }
          }

          // Usage example with test data
          const result = await triggerDeployment(%s);
          console.log("Status:", result.status);
          console.log("Output:", result.output_data);
          console.log("Duration:", result.duration_seconds, "seconds");
          """.formatted(FAST_RETRIES, name, input));
      case ASYNC -> js.append("""
          async function triggerDeployment(inputData = {}) {
            // Triggers the %s deployment: returns at once with the flow_run_id and poll_url
            const response = await fetch(API_URL, {
              method: "POST",
              headers: {
                "X-API-Key": API_KEY,
                "Content-Type": "application/json",
              },
              body: JSON.stringify({ input_data: inputData }),
            });
            const result = await response.json();
            if (result.status === "success") {
              return result.data;
            } else {
              throw new Error(`API Error: ${result.message}`);
            }
          }

          async function waitForResult(pollUrl, timeoutSeconds = %d) {
            // Polls the run until it is %s, and returns it
            const deadline = Date.now() + timeoutSeconds * 1000;
            while (true) {
              // wait=%d: the gateway answers as soon as the run ends, or after %d seconds
              const response = await fetch(`${API_BASE}${pollUrl}?wait=%d`, {
                headers: { "X-API-Key": API_KEY },
              });
              const result = await response.json();
              if (result.status !== "success") {
                throw new Error(`API Error: ${result.message}`);
              }
              if (["completed", "failed", "timed_out", "cancelled"].includes(result.data.status)) {
                return result.data;
              }
              if (Date.now() > deadline) {
                throw new Error(`Run ${result.data.flow_run_id} is still ${result.data.status}`);
              }
            }
          }

          // Usage example with test data
          const run = await triggerDeployment(%s);
          console.log("Started:", run.flow_run_id, `(${run.status})`);
          const result = await waitForResult(run.poll_url);
          console.log("Status:", result.status);
          console.log("Output:", result.output_data);
          console.log("Duration:", result.duration_seconds, "seconds");
          """.formatted(name, d.timeoutSeconds() + POLL_WAIT_SECONDS, TERMINAL, POLL_WAIT_SECONDS,
          POLL_WAIT_SECONDS, POLL_WAIT_SECONDS, input));
      default -> throw new IllegalStateException("unhandled mode " + d.mode());
    }
    return js.toString();
  }

  /** The deployment name inside a Python docstring: no backslash, quote or line break can end it. */
  static String pythonDocText(String name) {
    return printable(name).replace("\\", "\\\\").replace("\"", "\\\"");
  }

  /** The deployment name inside a {@code //} comment: no line terminator (JavaScript has four) can end it. */
  static String jsCommentText(String name) {
    return printable(name);
  }

  private static String printable(String name) {
    StringBuilder out = new StringBuilder(name.length());
    name.codePoints().forEach(c -> out.appendCodePoint(Character.isISOControl(c) || c == 0x2028 || c == 0x2029
        || c == 0x85 ? ' ' : c));
    return out.toString().trim();
  }
}
