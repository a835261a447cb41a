package io.flowgate.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.testsupport.GatewayProcess;
import io.flowgate.testsupport.GatewayUnderTest;
import io.flowgate.testsupport.TestHttp;
import io.flowgate.testsupport.TestHttp.Reply;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/** Flows, deployments and node lists shared by the multi-process durability tests. */
final class ClusterFixtures {
  static final String ADMIN = GatewayUnderTest.ADMIN_TOKEN;

  private ClusterFixtures() {
  }

  /** A deployment as the control plane created it: its id and its first key (shown once). */
  record Deployment(String id, String apiKey, String apiKeyId) {}

  /**
   * {@code api_input → [delay delayMs] → http_request POST <probeUrl> {"probe": $input.probe} → output}; the output is
   * the probe server's answer ({@code {"probe", "execution", "seq"}}), so it says which execution produced it.
   */
  static JsonObject probeFlow(String name, String probeUrl, long delayMs) {
    JsonArray nodes = new JsonArray().add(node("input", "api_input", new JsonObject()));
    JsonArray edges = new JsonArray();
    String previous = "input";
    if (delayMs > 0) {
      nodes.add(node("wait", "delay", new JsonObject().put("ms", delayMs)));
      edges.add(edge(previous, "wait"));
      previous = "wait";
    }
    nodes.add(node("call", "http_request", new JsonObject()
        .put("method", "POST")
        .put("url", probeUrl)
        .put("body", new JsonObject().put("probe", "=$input.probe"))
        .put("timeout_ms", 20_000)));
    edges.add(edge(previous, "call"));
    nodes.add(node("output", "output", new JsonObject().put("expression", "$.body")));
    edges.add(edge("call", "output"));
    return new JsonObject().put("name", name).put("nodes", nodes).put("edges", edges);
  }

  /** {@code api_input → delay ms → output {"probe": $input.probe}}: no side effect, just time. */
  static JsonObject delayFlow(String name, long ms) {
    return new JsonObject().put("name", name)
        .put("nodes", new JsonArray()
            .add(node("input", "api_input", new JsonObject()))
            .add(node("wait", "delay", new JsonObject().put("ms", ms)))
            .add(node("output", "output", new JsonObject().put("expression", "{\"probe\": $input.probe}"))))
        .put("edges", new JsonArray().add(edge("input", "wait")).add(edge("wait", "output")));
  }

  /** Creates {@code flow} and a deployment of it with {@code settings} (flow_id added) through the control plane. */
  static Deployment deploy(TestHttp http, String token, JsonObject flow, JsonObject settings) {
    Reply created = http.admin("POST", "/api/v1/flows", flow, token);
    assertThat(created.status()).as("creating flow: %s", created).isEqualTo(201);
    Reply dep = http.admin("POST", "/api/v1/deployments",
        settings.copy().put("flow_id", created.data().getString("id")), token);
    assertThat(dep.status()).as("creating deployment: %s", dep).isEqualTo(201);
    return new Deployment(dep.data().getString("id"), dep.data().getString("api_key"),
        dep.data().getString("api_key_id"));
  }

  static Deployment deploy(TestHttp http, JsonObject flow, JsonObject settings) {
    return deploy(http, ADMIN, flow, settings);
  }

  static JsonObject async(String type) {
    return new JsonObject().put("execution_mode", "async").put("deployment_type", type);
  }

  static JsonObject sync(String type) {
    return new JsonObject().put("execution_mode", "sync").put("deployment_type", type);
  }

  /** The clients of the nodes of {@code nodes} that are alive and not stalled, read at each call. */
  static Supplier<List<TestHttp>> liveClients(List<GatewayProcess> nodes) {
    return () -> {
      List<TestHttp> live = nodes.stream().filter(n -> n.isAlive() && !n.isStalled()).map(GatewayProcess::http)
          .toList();
      if (live.isEmpty()) {
        throw new IllegalStateException("no live node left");
      }
      return live;
    };
  }

  /** The output of the nodes, for failure messages. */
  static String outputs(List<GatewayProcess> nodes, int lines) {
    StringBuilder sb = new StringBuilder();
    for (GatewayProcess n : nodes) {
      sb.append("\n--- ").append(n).append(" (alive ").append(n.isAlive()).append(")\n").append(n.tail(lines));
    }
    return sb.toString();
  }

  /**
   * Waits (polling every 50 ms) until {@code condition} holds; if it does not within {@code atMost}, fails with
   * {@code what} and the explanation {@code explain} gives at that moment (e.g. the nodes' output).
   */
  static void awaitOrExplain(String what, Duration atMost, Callable<Boolean> condition, Supplier<String> explain) {
    try {
      Awaitility.await().atMost(atMost).pollInterval(Duration.ofMillis(50)).until(condition);
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(what + " did not happen within " + atMost.toMillis() + " ms; " + explain.get(), e);
    }
  }

  /** {@code GET /node/flow-runs/{id}/[?wait=N]}. */
  static Reply poll(TestHttp http, String runId, String apiKey, String query) {
    return http.send("GET", "/node/flow-runs/" + runId + "/" + (query == null ? "" : query), null,
        "X-API-Key", apiKey);
  }

  /** {@code POST /node/flow-runs/{id}/cancel}. */
  static Reply cancel(TestHttp http, String runId, String apiKey) {
    return http.send("POST", "/node/flow-runs/" + runId + "/cancel", null, "X-API-Key", apiKey);
  }

  /** Asserts an RFC 9457 problem with the given status and code. */
  static void assertProblem(Reply r, int status, String code) {
    assertThat(r.status()).as(r.toString()).isEqualTo(status);
    assertThat(r.header("Content-Type")).as(r.toString()).startsWith("application/problem+json");
    assertThat(r.json().getString("code")).as(r.toString()).isEqualTo(code);
    assertThat(r.json().getInteger("status")).as(r.toString()).isEqualTo(status);
  }

  private static JsonObject node(String id, String type, JsonObject config) {
    return new JsonObject().put("id", id).put("type", type).put("config", config);
  }

  private static JsonObject edge(String from, String to) {
    return new JsonObject().put("from", from).put("to", to);
  }
}
