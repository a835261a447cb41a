package io.flowgate.webhooks;

import static io.flowgate.webhooks.WebhookFixtures.async;
import static io.flowgate.webhooks.WebhookFixtures.createFlow;
import static io.flowgate.webhooks.WebhookFixtures.deploy;
import static io.flowgate.webhooks.WebhookFixtures.flow;
import static io.flowgate.webhooks.WebhookFixtures.libraryVerifies;
import static io.flowgate.webhooks.WebhookFixtures.trigger;
import static io.flowgate.webhooks.WebhookFixtures.webhook;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.testsupport.GatewayProcess;
import io.flowgate.testsupport.GatewayUnderTest;
import io.flowgate.testsupport.WebhookReceiver;
import io.flowgate.testsupport.WebhookReceiver.Delivery;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * RELIABILITY W2 with a real process: a gateway is killed with {@code kill -9} while its receiver is down, with runs
 * executing, events in the outbox and deliveries waiting for their next retry; after a restart every event of every
 * run reaches the receiver (at least once; one {@code webhook-id} per run and event), each verifiable.
 */
class WebhookCrashTest {
  private static final int RUNS = 12;

  private GatewayProcess node;
  private WebhookReceiver receiver;

  @AfterEach
  void stop() {
    if (node != null) {
      node.close();
    }
    if (receiver != null) {
      receiver.close();
    }
  }

  @Test
  @Timeout(value = 150, unit = TimeUnit.SECONDS)
  void deliveries_pending_when_the_gateway_is_killed_are_all_made_after_a_restart() {
    AtomicBoolean down = new AtomicBoolean(true);
    receiver = WebhookReceiver.start().on("/crash", n -> WebhookReceiver.Reply.status(down.get() ? 503 : 200));
    GatewayUnderTest.Backing backing = GatewayUnderTest.Backing.fresh(WebhookCrashTest.class);
    Map<String, String> env = Map.of(
        "FLOWGATE_WEBHOOKS_ALLOW_PRIVATE_NETWORKS", "true",
        "FLOWGATE_WEBHOOKS_RETRY_SCHEDULE_MS", "300,300,300,300,300,300,300,300,300,300,300,300,300,300,300,300,300,"
            + "300,300,300,300,300,300,300,300,300,300,300,300,300,300,300,300,300,300,300,300,300,300,300",
        "FLOWGATE_WEBHOOKS_POLL_INTERVAL_MS", "100",
        "FLOWGATE_WEBHOOKS_TIMEOUT_MS", "1000",
        "FLOWGATE_WEBHOOKS_RELAY_BLOCK_MS", "200",
        "FLOWGATE_WEBHOOKS_RELAY_CLAIM_IDLE_MS", "1000");
    node = GatewayProcess.start("hook-a", backing, env);
    String flowId = createFlow(node.http(), flow("crash", 400));
    WebhookFixtures.Hooked d = deploy(node.http(), flowId, async(webhook(receiver.url("/crash"))));
    Set<String> runs = new HashSet<>();
    for (int i = 0; i < RUNS; i++) {
      runs.add(trigger(node.http(), d, i));
    }
    // Down receiver: deliveries are being retried when the node dies; some runs are still executing.
    receiver.await("/crash", RUNS, Duration.ofSeconds(30));
    node.kill9();
    int beforeRestart = receiver.deliveries("/crash").size();
    down.set(false);

    node = GatewayProcess.start("hook-a", backing, env);
    Map<String, Set<String>> expected = new HashMap<>();
    for (String run : runs) {
      expected.put("msg_" + run + "_started", Set.of("run.started"));
      expected.put("msg_" + run + "_ended", Set.of("run.completed"));
    }
    Awaitility.await().atMost(60, TimeUnit.SECONDS).pollInterval(100, TimeUnit.MILLISECONDS).until(() ->
        delivered().keySet().containsAll(expected.keySet()));

    Map<String, Delivery> delivered = delivered();
    assertThat(delivered.keySet()).as("one webhook-id per run and event, no others")
        .containsExactlyInAnyOrderElementsOf(expected.keySet());
    for (Map.Entry<String, Delivery> e : delivered.entrySet()) {
      Delivery x = e.getValue();
      assertThat(expected.get(e.getKey())).contains(x.json().getString("type"));
      assertThat(libraryVerifies(d.secret(), x)).isTrue();
      if (x.json().getString("type").equals("run.completed")) {
        assertThat(x.json().getJsonObject("data").getString("status")).isEqualTo("completed");
      }
    }
    List<Delivery> all = receiver.deliveries("/crash");
    System.out.printf("webhook crash: %d runs, %d attempts before the kill, %d after the restart, %d events "
        + "delivered%n", RUNS, beforeRestart, all.size() - beforeRestart, delivered.size());
  }

  /** The last successful delivery of each webhook-id. */
  private Map<String, Delivery> delivered() {
    return receiver.deliveries("/crash").stream().filter(x -> x.status() == 200)
        .collect(Collectors.toMap(Delivery::webhookId, x -> x, (a, b) -> b));
  }
}
