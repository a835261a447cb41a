package io.flowgate.webhooks;

import static io.flowgate.webhooks.WebhookFixtures.ADMIN;
import static io.flowgate.webhooks.WebhookFixtures.async;
import static io.flowgate.webhooks.WebhookFixtures.awaitDelivery;
import static io.flowgate.webhooks.WebhookFixtures.createFlow;
import static io.flowgate.webhooks.WebhookFixtures.deploy;
import static io.flowgate.webhooks.WebhookFixtures.ended;
import static io.flowgate.webhooks.WebhookFixtures.flow;
import static io.flowgate.webhooks.WebhookFixtures.libraryVerifies;
import static io.flowgate.webhooks.WebhookFixtures.log;
import static io.flowgate.webhooks.WebhookFixtures.trigger;
import static io.flowgate.webhooks.WebhookFixtures.verifies;
import static io.flowgate.webhooks.WebhookFixtures.webhook;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.testsupport.Futures;
import io.flowgate.testsupport.GatewayUnderTest;
import io.flowgate.testsupport.TestHttp;
import io.flowgate.testsupport.TestHttp.Reply;
import io.flowgate.testsupport.WebhookReceiver;
import io.flowgate.testsupport.WebhookReceiver.Delivery;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Webhook delivery end to end against a real receiver on loopback (private networks allowed, retry schedule
 * compressed to 100 ms steps, 600 ms attempt timeout): signing that both flowgate's verifier and the Standard Webhooks
 * reference library accept, retries with one webhook-id, Retry-After, 410, rotation overlap, redirects, hanging and
 * flooding receivers, unreachable hosts, the delivery log and redelivery.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebhookDeliveryTest {
  private static final Duration WITHIN = Duration.ofSeconds(15);

  private GatewayUnderTest gateway;
  private TestHttp http;
  private WebhookReceiver receiver;
  private String quickFlow;

  @BeforeAll
  void start() {
    receiver = WebhookReceiver.start();
    gateway = GatewayUnderTest.start(GatewayUnderTest.Backing.fresh(getClass()), 1, Map.of(
        "FLOWGATE_WEBHOOKS_ALLOW_PRIVATE_NETWORKS", "true",
        "FLOWGATE_WEBHOOKS_RETRY_SCHEDULE_MS", "100,100,100,100,100,100",
        "FLOWGATE_WEBHOOKS_POLL_INTERVAL_MS", "50",
        "FLOWGATE_WEBHOOKS_TIMEOUT_MS", "600",
        "FLOWGATE_WEBHOOKS_MAX_RESPONSE_BYTES", "1024",
        "FLOWGATE_WEBHOOKS_RELAY_CLAIM_IDLE_MS", "500"));
    http = gateway.http();
    quickFlow = createFlow(http, flow("quick", 0));
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

  private WebhookFixtures.Hooked hooked(String path, String... events) {
    return deploy(http, quickFlow, async(webhook(receiver.url(path), events)));
  }

  @Test
  void a_run_is_announced_started_and_completed_with_signatures_both_verifiers_accept() {
    WebhookFixtures.Hooked d = hooked("/ok");
    assertThat(d.secret()).startsWith("whsec_");
    String runId = trigger(http, d, 7);
    JsonObject polled = ended(http, d, runId);
    List<Delivery> got = receiver.await("/ok", 2, WITHIN);

    Delivery completed = got.stream().filter(x -> x.json().getString("type").equals("run.completed")).findFirst()
        .orElseThrow();
    Delivery started = got.stream().filter(x -> x.json().getString("type").equals("run.started")).findFirst()
        .orElseThrow();
    for (Delivery x : List.of(started, completed)) {
      assertThat(verifies(d.secret(), x)).as("flowgate's verifier").isTrue();
      assertThat(libraryVerifies(d.secret(), x)).as("com.standardwebhooks").isTrue();
      assertThat(x.header("content-type")).isEqualTo("application/json");
      assertThat(x.webhookId()).startsWith("msg_").doesNotContain(".");
    }
    // The payload's data is the run exactly as the poll returns it.
    assertThat(completed.json().getJsonObject("data")).isEqualTo(polled);
    assertThat(completed.json().getString("timestamp")).isEqualTo(polled.getString("finished_at"));
    JsonObject startedData = started.json().getJsonObject("data");
    assertThat(startedData.getString("status")).isEqualTo("running");
    assertThat(startedData.getString("flow_run_id")).isEqualTo(runId);
    assertThat(startedData.containsKey("output_data")).isFalse();
    assertThat(started.webhookId()).isNotEqualTo(completed.webhookId());

    JsonObject entry = awaitDelivery(http, d.id(), e -> e.getString("event_type").equals("run.completed")
        && e.getString("state").equals("succeeded"), WITHIN);
    assertThat(entry.getString("webhook_id")).isEqualTo(completed.webhookId());
    assertThat(entry.getString("flow_run_id")).isEqualTo(runId);
    assertThat(entry.getInteger("attempt_count")).isEqualTo(1);
    assertThat(entry.getJsonArray("attempts").getJsonObject(0).getInteger("status_code")).isEqualTo(200);
    assertThat(log(http, d.id()).getJsonObject("endpoint").getBoolean("enabled")).isTrue();
    // The secret is shown once: never in a read.
    assertThat(http.admin("GET", "/api/v1/deployments/" + d.id(), null, ADMIN).body()).doesNotContain(d.secret());
    assertThat(log(http, d.id()).encode()).doesNotContain(d.secret());
  }

  @Test
  void a_failing_receiver_gets_the_same_webhook_id_until_it_recovers() {
    receiver.on("/flaky", n -> WebhookReceiver.Reply.status(n <= 2 ? 500 : 200));
    WebhookFixtures.Hooked d = hooked("/flaky", "run.completed");
    trigger(http, d, 1);
    List<Delivery> got = receiver.await("/flaky", 3, WITHIN);
    assertThat(got).extracting(Delivery::webhookId).containsOnly(got.get(0).webhookId());
    // The timestamp and signature are the attempt's own; each verifies.
    for (Delivery x : got) {
      assertThat(verifies(d.secret(), x)).isTrue();
      assertThat(libraryVerifies(d.secret(), x)).isTrue();
    }
    JsonObject entry = awaitDelivery(http, d.id(), e -> e.getString("state").equals("succeeded"), WITHIN);
    assertThat(entry.getInteger("attempt_count")).isEqualTo(3);
    assertThat(entry.getJsonArray("attempts").stream().map(a -> ((JsonObject) a).getInteger("status_code")))
        .containsExactly(500, 500, 200);
  }

  @Test
  void retry_after_is_honoured_instead_of_the_schedule() {
    receiver.on("/busy", n -> n == 1 ? WebhookReceiver.Reply.status(503, Map.of("Retry-After", "1"))
        : WebhookReceiver.Reply.status(200));
    WebhookFixtures.Hooked d = hooked("/busy", "run.completed");
    trigger(http, d, 1);
    List<Delivery> got = receiver.await("/busy", 2, WITHIN);
    long gapMs = TimeUnit.NANOSECONDS.toMillis(got.get(1).arrivedAtNanos() - got.get(0).arrivedAtNanos());
    assertThat(gapMs).as("wait after 'Retry-After: 1' (the schedule says 100 ms)").isGreaterThanOrEqualTo(950);
  }

  @Test
  void a_receiver_that_answers_410_disables_the_endpoint_until_the_notification_is_set_again() {
    receiver.on("/gone", n -> WebhookReceiver.Reply.status(n == 1 ? 410 : 200));
    WebhookFixtures.Hooked d = hooked("/gone", "run.completed");
    trigger(http, d, 1);
    JsonObject failed = awaitDelivery(http, d.id(), e -> e.getString("state").equals("failed"), WITHIN);
    assertThat(failed.getInteger("attempt_count")).isEqualTo(1);
    assertThat(failed.getString("last_error")).contains("410");
    JsonObject endpoint = log(http, d.id()).getJsonObject("endpoint");
    assertThat(endpoint.getBoolean("enabled")).isFalse();
    assertThat(endpoint.getString("disabled_reason")).contains("410");

    // Later events of a disabled endpoint are skipped, not sent.
    trigger(http, d, 2);
    awaitDelivery(http, d.id(), e -> e.getString("state").equals("skipped"), WITHIN);
    assertThat(receiver.deliveries("/gone")).hasSize(1);
    Reply refused = http.admin("POST", "/api/v1/webhook-deliveries/" + failed.getString("id") + "/redeliver", null,
        ADMIN);
    assertThat(refused.status()).isEqualTo(409);
    assertThat(refused.json().getString("code")).isEqualTo("conflict");

    // Setting the notification again enables it (the secret stays); a redelivery then goes out.
    Reply patched = http.admin("PATCH", "/api/v1/deployments/" + d.id(), new JsonObject().put("notification",
        webhook(receiver.url("/gone"), "run.completed")), ADMIN);
    assertThat(patched.status()).as(patched.toString()).isEqualTo(200);
    assertThat(patched.data().containsKey("webhook_secret")).isFalse();
    assertThat(log(http, d.id()).getJsonObject("endpoint").getBoolean("enabled")).isTrue();
    Reply again = http.admin("POST", "/api/v1/webhook-deliveries/" + failed.getString("id") + "/redeliver", null,
        ADMIN);
    assertThat(again.status()).as(again.toString()).isEqualTo(202);
    assertThat(again.data().getString("state")).isEqualTo("pending");
    List<Delivery> got = receiver.await("/gone", 2, WITHIN);
    assertThat(got.get(1).webhookId()).isEqualTo(got.get(0).webhookId());
    assertThat(verifies(d.secret(), got.get(1))).isTrue();
  }

  @Test
  void after_a_rotation_deliveries_carry_both_signatures_for_the_overlap() {
    WebhookFixtures.Hooked d = hooked("/rotate", "run.completed");
    Reply rotated = http.admin("POST", "/api/v1/deployments/" + d.id() + "/webhook-secret/rotate", null, ADMIN);
    assertThat(rotated.status()).as(rotated.toString()).isEqualTo(200);
    String newSecret = rotated.data().getString("webhook_secret");
    assertThat(newSecret).startsWith("whsec_").isNotEqualTo(d.secret());
    assertThat(rotated.data().getString("previous_secret_expires_at")).isNotNull();

    trigger(http, d, 1);
    Delivery both = receiver.await("/rotate", 1, WITHIN).get(0);
    assertThat(both.header("webhook-signature").split(" ")).hasSize(2);
    assertThat(libraryVerifies(newSecret, both)).as("new secret").isTrue();
    assertThat(libraryVerifies(d.secret(), both)).as("old secret, within the overlap").isTrue();
    assertThat(verifies(newSecret, both)).isTrue();
    assertThat(verifies(d.secret(), both)).isTrue();

    // A rotation without overlap: only the newest secret signs.
    String newest = http.admin("POST", "/api/v1/deployments/" + d.id() + "/webhook-secret/rotate",
        new JsonObject().put("overlap_seconds", 0), ADMIN).data().getString("webhook_secret");
    trigger(http, d, 2);
    Delivery one = receiver.await("/rotate", 2, WITHIN).get(1);
    assertThat(one.header("webhook-signature").split(" ")).hasSize(1);
    assertThat(libraryVerifies(newest, one)).isTrue();
    assertThat(libraryVerifies(newSecret, one)).isFalse();
  }

  @Test
  void a_redirect_is_a_failed_attempt_and_is_never_followed() {
    receiver.on("/moved", n -> WebhookReceiver.Reply.status(302, Map.of("Location", receiver.url("/target"))));
    WebhookFixtures.Hooked d = hooked("/moved", "run.completed");
    trigger(http, d, 1);
    JsonObject entry = awaitDelivery(http, d.id(), e -> e.getInteger("attempt_count") >= 2, WITHIN);
    assertThat(entry.getInteger("last_status_code")).isEqualTo(302);
    assertThat(entry.getString("last_error")).contains("redirect");
    assertThat(receiver.deliveries("/target")).isEmpty();
  }

  @Test
  void a_receiver_that_never_answers_times_out_and_is_retried() {
    receiver.on("/hang", n -> n == 1 ? WebhookReceiver.Reply.hang() : WebhookReceiver.Reply.status(204));
    WebhookFixtures.Hooked d = hooked("/hang", "run.completed");
    trigger(http, d, 1);
    JsonObject entry = awaitDelivery(http, d.id(), e -> e.getString("state").equals("succeeded"), WITHIN);
    JsonArray attempts = entry.getJsonArray("attempts");
    assertThat(attempts).hasSize(2);
    assertThat(attempts.getJsonObject(0).getString("error")).contains("no answer within 600 ms");
    assertThat(attempts.getJsonObject(0).getDouble("duration_ms")).isBetween(550.0, 3000.0);
    assertThat(attempts.getJsonObject(1).getInteger("status_code")).isEqualTo(204);
  }

  @Test
  void a_huge_answer_is_read_only_up_to_the_limit() {
    receiver.on("/flood", n -> WebhookReceiver.Reply.huge(200L * 1024 * 1024));
    WebhookFixtures.Hooked d = hooked("/flood", "run.completed");
    trigger(http, d, 1);
    JsonObject entry = awaitDelivery(http, d.id(), e -> e.getString("state").equals("succeeded"), WITHIN);
    JsonObject attempt = entry.getJsonArray("attempts").getJsonObject(0);
    assertThat(attempt.getString("response_body")).hasSize(1024);
    assertThat(attempt.getDouble("duration_ms")).isLessThan(2000.0);
    // The connection was cut: far fewer than the 3200 chunks of the whole body were written.
    assertThat(receiver.streamedChunks()).isLessThan(400);
  }

  @Test
  void an_unreachable_receiver_is_retried_and_then_fails_with_the_reason() {
    int closedPort;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
    WebhookFixtures.Hooked d = deploy(http, quickFlow, async(webhook("http://127.0.0.1:" + closedPort + "/x",
        "run.completed")));
    trigger(http, d, 1);
    JsonObject entry = awaitDelivery(http, d.id(), e -> e.getString("state").equals("failed"), WITHIN);
    assertThat(entry.getInteger("attempt_count")).isEqualTo(7);
    assertThat(entry.getString("last_error")).startsWith("Gave up after 7 attempts").contains("could not connect");
    assertThat(entry.getValue("next_attempt_at")).isNull();
  }

  @Test
  void a_cancelled_run_sends_run_failed_with_its_status() {
    String slow = createFlow(http, flow("slow", 5_000));
    WebhookFixtures.Hooked d = deploy(http, slow, async(webhook(receiver.url("/cancel"), "run.failed")));
    String runId = trigger(http, d, 1);
    Reply cancelled = http.send("POST", "/node/flow-runs/" + runId + "/cancel", null, "X-API-Key", d.apiKey());
    assertThat(cancelled.status()).isEqualTo(202);
    Delivery x = receiver.await("/cancel", 1, WITHIN).get(0);
    assertThat(x.json().getString("type")).isEqualTo("run.failed");
    assertThat(x.json().getJsonObject("data").getString("status")).isEqualTo("cancelled");
    assertThat(libraryVerifies(d.secret(), x)).isTrue();
  }

  @Test
  void a_sync_server_deployment_announces_its_runs_too() {
    WebhookFixtures.Hooked d = deploy(http, quickFlow, new JsonObject().put("execution_mode", "sync")
        .put("deployment_type", "server").put("notification", webhook(receiver.url("/sync"))));
    Reply r = http.trigger(d.id(), d.apiKey(), "{\"input_data\": {\"n\": 3}}");
    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    List<Delivery> got = receiver.await("/sync", 2, WITHIN);
    assertThat(got).extracting(x -> x.json().getString("type"))
        .containsExactlyInAnyOrder("run.started", "run.completed");
    Delivery completed = got.stream().filter(x -> x.json().getString("type").equals("run.completed")).findFirst()
        .orElseThrow();
    assertThat(completed.json().getJsonObject("data").getJsonObject("output_data"))
        .isEqualTo(new JsonObject().put("n", 3));
  }

  @Test
  void a_succeeded_delivery_can_be_redelivered_with_the_same_webhook_id() {
    WebhookFixtures.Hooked d = hooked("/again", "run.completed");
    trigger(http, d, 1);
    JsonObject entry = awaitDelivery(http, d.id(), e -> e.getString("state").equals("succeeded"), WITHIN);
    Reply r = http.admin("POST", "/api/v1/webhook-deliveries/" + entry.getString("id") + "/redeliver", null, ADMIN);
    assertThat(r.status()).as(r.toString()).isEqualTo(202);
    List<Delivery> got = receiver.await("/again", 2, WITHIN);
    assertThat(got.get(1).webhookId()).isEqualTo(got.get(0).webhookId());
    JsonObject after = awaitDelivery(http, d.id(), e -> e.getInteger("attempt_count") == 2
        && e.getString("state").equals("succeeded"), WITHIN);
    assertThat(after.getJsonArray("attempts")).hasSize(2);
  }

  @Test
  void an_outbox_event_taken_by_a_node_that_died_is_relayed_by_another() {
    WebhookFixtures.Hooked d = hooked("/ghost", "run.completed");
    String runId = trigger(http, d, 1);
    receiver.await("/ghost", 1, WITHIN);
    // A node ("ghost") reads an event from the outbox and dies before storing it: in one transaction, so that the
    // live node's blocked read cannot take it first.
    String outbox = WebhookEvents.outboxKey(gateway.config().redis().keyPrefix());
    String messageId = "msg_" + runId + "_replayed";
    Futures.await(gateway.gateway().redis().batch(List.of(
        Request.cmd(Command.MULTI),
        Request.cmd(Command.XADD).arg(outbox).arg("*").arg("msg").arg(messageId).arg("type").arg("run.completed")
            .arg("run").arg(runId).arg("deployment").arg(d.id()).arg("status").arg("completed").arg("at")
            .arg("2026-01-01T00:00:00Z"),
        Request.cmd(Command.XREADGROUP).arg("GROUP").arg("relay").arg("ghost").arg("COUNT").arg(1).arg("STREAMS")
            .arg(outbox).arg(">"),
        Request.cmd(Command.EXEC))));
    List<Delivery> got = receiver.await("/ghost", 2, WITHIN);
    assertThat(got.get(1).webhookId()).isEqualTo(messageId);
    assertThat(got.get(1).json().getJsonObject("data").getString("flow_run_id")).isEqualTo(runId);
    assertThat(libraryVerifies(d.secret(), got.get(1))).isTrue();
  }

  @Test
  void deliveries_are_counted_in_the_metrics() {
    WebhookFixtures.Hooked d = hooked("/metrics", "run.completed");
    trigger(http, d, 1);
    awaitDelivery(http, d.id(), e -> e.getString("state").equals("succeeded"), WITHIN);
    String metrics = http.send("GET", "/metrics", null).body();
    assertThat(metrics).contains("flowgate_webhooks_attempts_total{result=\"2xx\"}")
        .contains("flowgate_webhooks_deliveries_total{outcome=\"succeeded\"}")
        .contains("flowgate_webhooks_delivery_latency_seconds_count")
        .contains("flowgate_webhooks_queue_pending")
        .contains("flowgate_webhooks_queue_age_seconds");
  }
}
