package io.flowgate.webhooks;

import static io.flowgate.webhooks.WebhookFixtures.ADMIN;
import static io.flowgate.webhooks.WebhookFixtures.async;
import static io.flowgate.webhooks.WebhookFixtures.awaitDelivery;
import static io.flowgate.webhooks.WebhookFixtures.createFlow;
import static io.flowgate.webhooks.WebhookFixtures.deploy;
import static io.flowgate.webhooks.WebhookFixtures.flow;
import static io.flowgate.webhooks.WebhookFixtures.trigger;
import static io.flowgate.webhooks.WebhookFixtures.webhook;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.testsupport.Futures;
import io.flowgate.testsupport.GatewayUnderTest;
import io.flowgate.testsupport.TestHttp;
import io.flowgate.testsupport.TestHttp.Reply;
import io.flowgate.testsupport.WebhookReceiver;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Configuring webhooks through the control plane with the SSRF guard on (the default): every spelling of a private
 * target and every malformed notification is refused as problem+json with a code and an actionable message, a public
 * URL is accepted with its secret shown once, and a private URL that reached the database some other way is refused
 * again at delivery, without a connection. Also the errors of the webhook calls themselves.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebhookConfigurationTest {
  private static final String PUBLIC_URL = "https://93.184.215.14/hooks/flowgate";

  private GatewayUnderTest gateway;
  private TestHttp http;
  private WebhookReceiver receiver;
  private String flowId;

  @BeforeAll
  void start() {
    receiver = WebhookReceiver.start();
    gateway = GatewayUnderTest.start(GatewayUnderTest.Backing.fresh(getClass()), 1, Map.of(
        "FLOWGATE_WEBHOOKS_POLL_INTERVAL_MS", "50"));
    http = gateway.http();
    flowId = createFlow(http, flow("config", 0));
  }

  @AfterAll
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    if (receiver != null) {
      receiver.close();
    }
  }

  private Reply create(JsonObject notification) {
    return http.admin("POST", "/api/v1/deployments", async(notification).put("flow_id", flowId), ADMIN);
  }

  private static void assertProblem(Reply r, int status, String code, String... mentions) {
    assertThat(r.status()).as(r.toString()).isEqualTo(status);
    assertThat(r.header("Content-Type")).isEqualTo("application/problem+json");
    JsonObject p = r.json();
    assertThat(p.getString("code")).as(r.toString()).isEqualTo(code);
    assertThat(p.getString("message")).isEqualTo(p.getString("detail")).isNotBlank();
    for (String mention : mentions) {
      assertThat(p.getString("message")).contains(mention);
    }
    assertThat(r.body()).doesNotContain("Exception").doesNotContain("\tat ");
  }

  @ParameterizedTest
  @ValueSource(strings = {"http://127.1/", "http://0x7f000001/", "http://2130706433/", "http://[::1]/",
      "http://[::ffff:127.0.0.1]/", "http://localhost/", "http://127.0.0.1:8080/hook", "http://169.254.169.254/",
      "http://10.1.2.3/", "http://[fd00::1]/", "http://100.64.1.1/", "http://0177.0.0.1/"})
  void every_spelling_of_a_private_target_is_refused_at_configuration(String url) {
    assertProblem(create(webhook(url)), 400, "invalid_webhook_url", "notification.url");
  }

  @ParameterizedTest
  @ValueSource(strings = {"ftp://example.com/x", "file:///etc/passwd", "gopher://example.com/", "not a url",
      "http://user:secret@93.184.215.14/", "https://93.184.215.14/#frag"})
  void non_http_urls_and_urls_with_credentials_are_refused(String url) {
    assertProblem(create(webhook(url)), 400, "invalid_webhook_url", "notification.url");
  }

  @Test
  void a_host_that_does_not_resolve_is_refused() {
    assertProblem(create(webhook("https://no-such-host.invalid/hook")), 400, "invalid_webhook_url",
        "does not resolve");
  }

  @Test
  void unknown_or_no_events_are_refused_naming_the_allowed_ones() {
    assertProblem(create(webhook(PUBLIC_URL, "run.exploded")), 400, "invalid_request", "run.exploded",
        "run.completed");
    assertProblem(create(webhook(PUBLIC_URL).put("events", new JsonArray())), 400, "invalid_request",
        "non-empty array");
    assertProblem(create(webhook(PUBLIC_URL).put("events", "run.completed")), 400, "invalid_request",
        "notification.events");
    assertProblem(create(webhook(PUBLIC_URL).put("method", "sms")), 400, "invalid_request", "webhook or none");
    assertProblem(create(webhook(PUBLIC_URL).put("secret", "mine")), 400, "invalid_request", "notification.secret");
    assertProblem(create(new JsonObject().put("method", "webhook")), 400, "invalid_webhook_url",
        "notification.url");
  }

  @Test
  void a_public_url_is_accepted_and_its_secret_shown_once() {
    Reply created = create(webhook(PUBLIC_URL, "run.completed"));
    assertThat(created.status()).as(created.toString()).isEqualTo(201);
    String secret = created.data().getString("webhook_secret");
    assertThat(secret).startsWith("whsec_");
    assertThat(created.data().getJsonObject("notification").getString("url")).isEqualTo(PUBLIC_URL);
    String id = created.data().getString("id");
    assertThat(http.admin("GET", "/api/v1/deployments/" + id, null, ADMIN).body()).doesNotContain(secret);
    assertThat(http.admin("GET", "/api/v1/deployments", null, ADMIN).body()).doesNotContain(secret);

    // PATCHing the URL keeps the secret (nothing new to show); a private URL is refused there too.
    Reply patched = http.admin("PATCH", "/api/v1/deployments/" + id, new JsonObject().put("notification",
        webhook("https://93.184.215.15/other")), ADMIN);
    assertThat(patched.status()).as(patched.toString()).isEqualTo(200);
    assertThat(patched.data().containsKey("webhook_secret")).isFalse();
    assertProblem(http.admin("PATCH", "/api/v1/deployments/" + id, new JsonObject().put("notification",
        webhook("http://[::ffff:127.0.0.1]/")), ADMIN), 400, "invalid_webhook_url", "loopback");
  }

  @Test
  void a_deployment_that_gets_its_first_webhook_by_patch_gets_its_secret_then() {
    Reply created = http.admin("POST", "/api/v1/deployments", new JsonObject().put("flow_id", flowId), ADMIN);
    assertThat(created.data().containsKey("webhook_secret")).isFalse();
    String id = created.data().getString("id");
    assertProblem(http.admin("POST", "/api/v1/deployments/" + id + "/webhook-secret/rotate", null, ADMIN), 409,
        "conflict", "sends no webhooks");
    Reply patched = http.admin("PATCH", "/api/v1/deployments/" + id, new JsonObject().put("notification",
        webhook(PUBLIC_URL)), ADMIN);
    assertThat(patched.data().getString("webhook_secret")).startsWith("whsec_");
  }

  @Test
  void the_webhook_calls_answer_problems_for_unknown_ids_and_bad_parameters() {
    String unknown = UUID.randomUUID().toString();
    assertProblem(http.admin("POST", "/api/v1/deployments/" + unknown + "/webhook-secret/rotate", null, ADMIN), 404,
        "not_found", "GET /api/v1/deployments");
    assertProblem(http.admin("GET", "/api/v1/deployments/" + unknown + "/webhook-deliveries", null, ADMIN), 404,
        "not_found");
    assertProblem(http.admin("POST", "/api/v1/webhook-deliveries/" + unknown + "/redeliver", null, ADMIN), 404,
        "not_found", "webhook-deliveries");
    assertProblem(http.admin("POST", "/api/v1/webhook-deliveries/not-a-uuid/redeliver", null, ADMIN), 404,
        "not_found");
    String id = create(webhook(PUBLIC_URL)).data().getString("id");
    String log = "/api/v1/deployments/" + id + "/webhook-deliveries";
    assertProblem(http.admin("GET", log + "?limit=1000", null, ADMIN), 400, "invalid_request", "limit");
    assertProblem(http.admin("GET", log + "?state=lost", null, ADMIN), 400, "invalid_request", "pending");
    assertProblem(http.admin("GET", log + "?cursor=nonsense", null, ADMIN), 400, "invalid_request", "next_cursor");
    assertProblem(http.admin("POST", "/api/v1/deployments/" + id + "/webhook-secret/rotate",
        new JsonObject().put("overlap_seconds", -1), ADMIN), 400, "invalid_request", "overlap_seconds");
    assertProblem(http.admin("POST", "/api/v1/deployments/" + id + "/webhook-secret/rotate",
        new JsonObject().put("grace", 1), ADMIN), 400, "invalid_request", "overlap_seconds");
    // Another profile sees none of it.
    String otherToken = http.admin("POST", "/api/v1/profiles", new JsonObject().put("name", "other-webhooks"),
        ADMIN).data().getString("token");
    assertProblem(http.admin("GET", log, null, otherToken), 404, "not_found");
    assertProblem(http.admin("POST", "/api/v1/deployments/" + id + "/webhook-secret/rotate", null, otherToken), 404,
        "not_found");
  }

  @Test
  void a_private_url_that_reached_the_database_is_refused_again_at_delivery_without_a_connection() {
    WebhookFixtures.Hooked d = deploy(http, flowId, async(webhook(PUBLIC_URL, "run.completed")));
    // As if set behind the API's back (psql, an old version, a declaration): the delivery-time check must hold.
    Futures.await(gateway.gateway().pool().preparedQuery(
            "UPDATE deployments SET notification = $2 WHERE id = $1")
        .execute(Tuple.of(UUID.fromString(d.id()), webhook(receiver.url("/private"), "run.completed"))));
    int connectionsBefore = receiver.connections();
    trigger(http, d, 1);
    JsonObject entry = awaitDelivery(http, d.id(), e -> e.getString("state").equals("failed"), Duration.ofSeconds(15));
    assertThat(entry.getString("last_error")).startsWith("Refused").contains("loopback");
    assertThat(entry.getJsonArray("attempts").getJsonObject(0).getValue("status_code")).isNull();
    assertThat(receiver.connections()).isEqualTo(connectionsBefore);
    assertThat(receiver.deliveries("/private")).isEmpty();
  }
}
