package io.flowgate.inference.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flowgate.testsupport.TestHttp;
import io.flowgate.testsupport.TestHttp.Reply;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A server started with a boot time: 503 with {@code Retry-After} everywhere but liveness while booting, then ready
 * once the boot time has passed, never before.
 */
class ReferenceInferenceBootTest {
  private static final String PREDICT = "{\"features\": [5.1, 3.5, 1.4, 0.2]}";
  private static final String INFER = "{\"inputs\": [{\"name\": \"input\", \"shape\": [1, 4], \"datatype\": \"FP32\", "
      + "\"data\": [5.1, 3.5, 1.4, 0.2]}]}";
  private ReferenceInferenceServer server;

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void answers_503_with_retry_after_on_every_endpoint_but_liveness_while_booting() throws Exception {
    // A boot time no busy test machine can outlast, so the booting phase is certain to be observed.
    TestHttp http = start(Duration.ofSeconds(120));
    assertThat(http.send("GET", "/v2/health/live", null).status()).isEqualTo(200);
    assertThat(http.send("GET", "/v2/models/iris", null).status()).isEqualTo(200);
    assertBooting(http.send("POST", "/predict", PREDICT));
    assertBooting(http.send("POST", "/v2/models/iris/infer", INFER));
    assertBooting(http.send("GET", "/v2/health/ready", null));
    assertBooting(http.send("GET", "/v2/models/iris/ready", null));
    assertBooting(http.send("GET", "/health", null));
    assertThat(server.isReady()).isFalse();
  }

  @Test
  void becomes_ready_once_the_boot_time_has_passed_and_not_before() throws Exception {
    Duration boot = Duration.ofSeconds(1);
    long before = System.nanoTime();
    TestHttp http = start(boot);
    List<Reply> booting = new CopyOnWriteArrayList<>();
    // Poll readiness the way flowgate's launcher does, with a deadline; no fixed sleep.
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> {
      Reply r = http.send("GET", "/v2/health/ready", null);
      if (r.status() != 200) {
        booting.add(r);
      }
      return r.status() == 200;
    });
    // How many 503s the polls saw depends on the machine's speed; each must say to come back in 1 s.
    assertThat(booting).allSatisfy(r -> {
      assertThat(r.status()).isEqualTo(503);
      assertThat(r.header("retry-after")).isEqualTo("1");
    });
    assertThat(System.nanoTime() - before).as("ready after the boot time").isGreaterThanOrEqualTo(boot.toNanos());
    assertThat(server.isReady()).isTrue();
    assertThat(http.send("GET", "/health", null).status()).isEqualTo(200);
    Reply predict = http.send("POST", "/predict", PREDICT);
    assertThat(predict.status()).isEqualTo(200);
    assertThat(predict.json().getString("label")).isEqualTo("setosa");
    assertThat(http.send("POST", "/v2/models/iris/infer", INFER).status()).isEqualTo(200);
  }

  private TestHttp start(Duration boot) throws Exception {
    server = ReferenceInferenceServer.start(new ReferenceOptions("127.0.0.1", 0, boot, 1))
        .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    return new TestHttp("http://127.0.0.1:" + server.port());
  }

  private static void assertBooting(Reply r) {
    assertThat(r.status()).as(r.body()).isEqualTo(503);
    assertThat(r.header("content-type")).isEqualTo("application/json");
    // Whole seconds left, rounded up: close to the 120 s boot time, never 0.
    assertThat(Integer.parseInt(r.header("retry-after"))).isBetween(60, 120);
    assertThat(r.json().getString("error")).contains("still booting; retry in about");
  }
}
