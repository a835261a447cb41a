package io.flowgate.trigger;

import static io.flowgate.testsupport.ControlPlane.createDeployment;
import static io.flowgate.testsupport.ControlPlane.createFlow;
import static io.flowgate.testsupport.ControlPlane.ok;
import static io.flowgate.testsupport.ControlPlane.problemCode;
import static io.flowgate.testsupport.ControlPlane.versionedFlow;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.testsupport.GatewayUnderTest;
import io.flowgate.testsupport.TestHttp.Reply;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Issue #6 item 3 (RELIABILITY S3) on two nodes: one key's budget is shared by both nodes (allowed ≤ burst + rate ×
 * elapsed + 1), refusals are 429 {@code rate_limited} with {@code Retry-After} and the {@code RateLimit-*} fields, a
 * deployment without a limit costs no rate-limit decision, and lifting the limit with PATCH takes effect at once. The
 * usage report of either node counts every call both nodes answered.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RateLimitTest {
  private static final double RATE = 10;
  private static final int BURST = 20;
  private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private GatewayUnderTest a;
  private GatewayUnderTest b;
  private String flow;

  @BeforeAll
  void start() {
    GatewayUnderTest.Backing backing = GatewayUnderTest.Backing.fresh(RateLimitTest.class);
    Map<String, String> env = Map.of("FLOWGATE_USAGE_FLUSH_MS", "200");
    a = GatewayUnderTest.start(backing, 1, env);
    b = GatewayUnderTest.start(backing, 2, env);
    flow = createFlow(a.http(), versionedFlow("limited", 1, 0));
  }

  @AfterAll
  void stop() {
    GatewayUnderTest.closeAll(a, b);
  }

  @Test
  void two_nodes_share_one_budget_per_key_and_refuse_the_rest_with_429_and_ratelimit_fields() {
    JsonObject d = createDeployment(a.http(), new JsonObject().put("flow_id", flow).put("deployment_type", "server")
        .put("rate_limit", new JsonObject().put("requests_per_second", RATE).put("burst", BURST)));
    String id = d.getString("id");
    String key = d.getString("api_key");

    int perNode = 60;
    long started = System.nanoTime();
    List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
    for (int i = 0; i < perNode; i++) {
      sent.add(trigger(a, id, key));
      sent.add(trigger(b, id, key));
    }
    List<HttpResponse<String>> replies = sent.stream().map(CompletableFuture::join).toList();
    double elapsed = (System.nanoTime() - started) / 1e9;

    long allowed = replies.stream().filter(r -> r.statusCode() == 200).count();
    long limited = replies.stream().filter(r -> r.statusCode() == 429).count();
    assertThat(allowed + limited).as("only 200 and 429").isEqualTo(2L * perNode);
    assertThat((double) allowed).as("allowed in %.2f s", elapsed).isLessThanOrEqualTo(BURST + RATE * elapsed + 1);
    assertThat(allowed).as("a fresh key gets its whole burst").isGreaterThanOrEqualTo(BURST);
    assertThat(limited).isPositive();

    for (HttpResponse<String> r : replies) {
      assertThat(r.headers().firstValue("RateLimit-Limit")).hasValue(Integer.toString(BURST));
      assertThat(r.headers().firstValue("RateLimit-Policy")).hasValue(BURST + ";w=2");
      long remaining = Long.parseLong(r.headers().firstValue("RateLimit-Remaining").orElseThrow());
      assertThat(remaining).isBetween(0L, (long) BURST - 1);
      assertThat(Long.parseLong(r.headers().firstValue("RateLimit-Reset").orElseThrow())).isBetween(0L, 2L);
      if (r.statusCode() == 429) {
        assertThat(remaining).isZero();
        assertThat(r.headers().firstValue("Retry-After")).hasValue("1");
        JsonObject problem = new JsonObject(r.body());
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(problem.getString("code")).isEqualTo("rate_limited");
        assertThat(problem.getString("message")).contains("10 requests per second, bursts of 20");
      }
    }

    // Either node's usage report counts the calls both nodes answered (each writes its counts every 200 ms).
    Awaitility.await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
      JsonObject usage = ok(b.http(), "GET", "/api/v1/deployments/" + id + "/usage?window=1h", null, 200);
      assertThat(usage.getLong("calls")).isEqualTo(2L * perNode);
      assertThat(usage.getJsonObject("errors_by_code").getLong("rate_limited")).isEqualTo(limited);
      assertThat(usage.getLong("errors")).isEqualTo(limited);
    });
  }

  @Test
  void a_deployment_without_a_limit_makes_no_rate_limit_decision_and_sends_no_ratelimit_fields() {
    JsonObject d = createDeployment(a.http(), new JsonObject().put("flow_id", flow).put("deployment_type", "server"));
    double before = decisions(a);
    for (int i = 0; i < 5; i++) {
      Reply r = a.http().trigger(d.getString("id"), d.getString("api_key"), "{\"input_data\": {\"n\": 1}}");
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.header("RateLimit-Limit")).isNull();
      assertThat(r.header("RateLimit-Remaining")).isNull();
    }
    assertThat(decisions(a)).as("no Redis round trip for the limit").isEqualTo(before);
  }

  @Test
  void lifting_the_limit_with_patch_admits_the_next_call_and_keys_have_their_own_budgets() {
    JsonObject d = createDeployment(a.http(), new JsonObject().put("flow_id", flow).put("deployment_type", "server")
        .put("rate_limit", new JsonObject().put("requests_per_second", 0.01).put("burst", 1)));
    String id = d.getString("id");
    String body = "{\"input_data\": {\"n\": 1}}";
    assertThat(a.http().trigger(id, d.getString("api_key"), body).status()).isEqualTo(200);
    Reply refused = a.http().trigger(id, d.getString("api_key"), body);
    assertThat(refused.status()).isEqualTo(429);
    assertThat(problemCode(refused)).isEqualTo("rate_limited");
    // 0.01 requests per second: the next one is earned in 100 s.
    assertThat(Long.parseLong(refused.header("Retry-After"))).isBetween(90L, 100L);

    String other = ok(a.http(), "POST", "/api/v1/deployments/" + id + "/api-keys", null, 201).getString("api_key");
    assertThat(a.http().trigger(id, other, body).status()).as("another key, another budget").isEqualTo(200);

    ok(a.http(), "PATCH", "/api/v1/deployments/" + id, new JsonObject().putNull("rate_limit"), 200);
    Reply lifted = a.http().trigger(id, d.getString("api_key"), body);
    assertThat(lifted.status()).isEqualTo(200);
    assertThat(lifted.header("RateLimit-Limit")).isNull();
  }

  private static CompletableFuture<HttpResponse<String>> trigger(GatewayUnderTest node, String id, String key) {
    return CLIENT.sendAsync(HttpRequest.newBuilder(URI.create(node.baseUrl() + "/node/deployment-trigger/" + id + "/"))
        .timeout(Duration.ofSeconds(30))
        .header("X-API-Key", key).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"input_data\": {\"n\": 1}}")).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The node's count of rate-limit decisions, read from /metrics. */
  private static double decisions(GatewayUnderTest node) {
    double total = 0;
    for (String line : node.http().send("GET", "/metrics", null).body().split("\n")) {
      if (line.startsWith("flowgate_ratelimit_decisions_total")) {
        total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return total;
  }
}
