package io.flowgate.trigger;

import static io.flowgate.testsupport.ControlPlane.createDeployment;
import static io.flowgate.testsupport.ControlPlane.createFlow;
import static io.flowgate.testsupport.ControlPlane.problemCode;
import static io.flowgate.testsupport.ControlPlane.versionedFlow;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.backends.EmbeddedBackends;
import io.flowgate.testsupport.GatewayUnderTest;
import io.flowgate.testsupport.TestBackends;
import io.flowgate.testsupport.TestHttp.Reply;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A rate-limited deployment when Redis is gone (RELIABILITY S3, "fail closed"): the trigger answers 503
 * {@code service_unavailable} with {@code Retry-After} within the Redis command timeout, never admits the call
 * unchecked. The gateway runs on a redis-server of its own, stopped half way.
 */
class RateLimitRedisOutageTest {

  @Test
  void a_rate_limited_trigger_fails_closed_with_503_while_redis_is_down() throws Exception {
    Path dir = Path.of("target", "ratelimit-outage-" + Integer.toHexString(ThreadLocalRandom.current().nextInt()))
        .toAbsolutePath();
    EmbeddedBackends redis = EmbeddedBackends.start(dir, false, true);
    boolean redisUp = true;
    GatewayUnderTest node = null;
    try {
      GatewayUnderTest.Backing backing = new GatewayUnderTest.Backing(
          TestBackends.newDatabase("RateLimitRedisOutageTest"), redis.redisUrl(), "fgtest:rloutage:");
      node = GatewayUnderTest.start(backing, 1, Map.of("FLOWGATE_REDIS_COMMAND_TIMEOUT_MS", "500"));
      String flow = createFlow(node.http(), versionedFlow("outage", 1, 0));
      JsonObject d = createDeployment(node.http(), new JsonObject().put("flow_id", flow)
          .put("deployment_type", "server")
          .put("rate_limit", new JsonObject().put("requests_per_second", 100).put("burst", 100)));
      String body = "{\"input_data\": {\"n\": 1}}";
      assertThat(node.http().trigger(d.getString("id"), d.getString("api_key"), body).status()).isEqualTo(200);

      redis.close();
      redisUp = false;
      long started = System.nanoTime();
      Reply refused = node.http().trigger(d.getString("id"), d.getString("api_key"), body);
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(3));
      assertThat(refused.status()).as(refused.toString()).isEqualTo(503);
      assertThat(problemCode(refused)).isEqualTo("service_unavailable");
      assertThat(refused.json().getString("message")).contains("rate limit");
      assertThat(refused.header("Retry-After")).isEqualTo("1");
    } finally {
      if (node != null) {
        node.close();
      }
      if (redisUp) {
        redis.close();
      }
      deleteRecursively(dir);
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
