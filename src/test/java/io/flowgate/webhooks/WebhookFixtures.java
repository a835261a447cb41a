package io.flowgate.webhooks;

import static org.assertj.core.api.Assertions.assertThat;

import com.standardwebhooks.Webhook;
import com.standardwebhooks.exceptions.EmptyWebhookSecretException;
import com.standardwebhooks.exceptions.WebhookVerificationException;
import io.flowgate.testsupport.GatewayUnderTest;
import io.flowgate.testsupport.TestHttp;
import io.flowgate.testsupport.TestHttp.Reply;
import io.flowgate.testsupport.WebhookReceiver;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.awaitility.Awaitility;

/** Flows, deployments and checks shared by the webhook integration tests. */
final class WebhookFixtures {
  static final String ADMIN = GatewayUnderTest.ADMIN_TOKEN;

  private WebhookFixtures() {
  }

  /** A deployment as created: its id, first API key and webhook secret (each shown once). */
  record Hooked(String id, String apiKey, String secret) {}

  /** {@code api_input → [delay ms] → output {"n": $input.n}}. */
  static JsonObject flow(String name, long delayMs) {
    JsonArray nodes = new JsonArray().add(node("input", "api_input"));
    JsonArray edges = new JsonArray();
    String previous = "input";
    if (delayMs > 0) {
      nodes.add(new JsonObject().put("id", "wait").put("type", "delay").put("config", new JsonObject().put("ms",
          delayMs)));
      edges.add(edge(previous, "wait"));
      previous = "wait";
    }
    nodes.add(new JsonObject().put("id", "output").put("type", "output").put("config",
        new JsonObject().put("expression", "{\"n\": $input.n}")));
    edges.add(edge(previous, "output"));
    return new JsonObject().put("name", name).put("nodes", nodes).put("edges", edges);
  }

  private static JsonObject node(String id, String type) {
    return new JsonObject().put("id", id).put("type", type).put("config", new JsonObject());
  }

  private static JsonObject edge(String from, String to) {
    return new JsonObject().put("from", from).put("to", to);
  }

  static String createFlow(TestHttp http, JsonObject flow) {
    Reply r = http.admin("POST", "/api/v1/flows", flow, ADMIN);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return r.data().getString("id");
  }

  static JsonObject webhook(String url, String... events) {
    JsonObject n = new JsonObject().put("method", "webhook").put("url", url);
    if (events.length > 0) {
      n.put("events", new JsonArray(List.of((Object[]) events)));
    }
    return n;
  }

  /** Creates a deployment of {@code flowId} with {@code settings} (mode, type, notification, ...). */
  static Hooked deploy(TestHttp http, String flowId, JsonObject settings) {
    Reply r = http.admin("POST", "/api/v1/deployments", settings.copy().put("flow_id", flowId), ADMIN);
    assertThat(r.status()).as(r.toString()).isEqualTo(201);
    return new Hooked(r.data().getString("id"), r.data().getString("api_key"), r.data().getString("webhook_secret"));
  }

  static JsonObject async(JsonObject notification) {
    return new JsonObject().put("execution_mode", "async").put("deployment_type", "api")
        .put("notification", notification);
  }

  /** Triggers a run; its id. */
  static String trigger(TestHttp http, Hooked d, int n) {
    Reply r = http.trigger(d.id(), d.apiKey(), "{\"input_data\": {\"n\": " + n + "}}");
    assertThat(r.status()).as(r.toString()).isIn(200, 202);
    return r.data().getString("flow_run_id");
  }

  /** The run as a poll returns it once it has ended. */
  static JsonObject ended(TestHttp http, Hooked d, String runId) {
    Reply r = http.send("GET", "/node/flow-runs/" + runId + "/?wait=20", null, "X-API-Key", d.apiKey());
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return r.data();
  }

  /** The deployment's delivery log ({@code endpoint}, {@code items}). */
  static JsonObject log(TestHttp http, String deploymentId) {
    Reply r = http.admin("GET", "/api/v1/deployments/" + deploymentId + "/webhook-deliveries?limit=100", null,
        ADMIN);
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    return r.data();
  }

  /** Waits until the log has a delivery matching {@code match}; returns it. */
  static JsonObject awaitDelivery(TestHttp http, String deploymentId, Predicate<JsonObject> match, Duration within) {
    JsonObject[] found = new JsonObject[1];
    Awaitility.await().atMost(within.toMillis(), TimeUnit.MILLISECONDS).pollInterval(50, TimeUnit.MILLISECONDS)
        .until(() -> {
          for (Object o : log(http, deploymentId).getJsonArray("items")) {
            if (match.test((JsonObject) o)) {
              found[0] = (JsonObject) o;
              return true;
            }
          }
          return false;
        });
    return found[0];
  }

  /** Whether {@code d} is genuine for {@code secret} by flowgate's own verifier (now). */
  static boolean verifies(String secret, WebhookReceiver.Delivery d) {
    return WebhookSigner.verify(secret, d.webhookId(), d.header("webhook-timestamp"), d.header("webhook-signature"),
        d.body().getBytes(), Instant.now().getEpochSecond());
  }

  /** Whether {@code d} is genuine for {@code secret} by the Standard Webhooks reference library. */
  static boolean libraryVerifies(String secret, WebhookReceiver.Delivery d) {
    try {
      new Webhook(secret).verify(d.body().toString(), d.headerLists());
      return true;
    } catch (WebhookVerificationException e) {
      return false;
    } catch (EmptyWebhookSecretException e) {
      throw new AssertionError("the secret is empty", e);
    }
  }
}
