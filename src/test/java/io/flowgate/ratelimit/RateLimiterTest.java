package io.flowgate.ratelimit;

import static io.flowgate.testsupport.Futures.await;
import static io.flowgate.testsupport.Futures.awaitFailure;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.metrics.GatewayMetrics;
import io.flowgate.testsupport.TestBackends;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import io.vertx.redis.client.Redis;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The GCRA script on a real Redis: a fresh key gets its burst at once and then one request per emission interval;
 * budgets are per deployment and key; a Redis that refuses connections or never answers is a 503 (fail closed).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RateLimiterTest {
  private Vertx vertx;
  private Redis redis;
  private SimpleMeterRegistry registry;
  private RateLimiter limiter;

  @BeforeAll
  void start() {
    vertx = Vertx.vertx();
    redis = Redis.createClient(vertx, TestBackends.redisUrl());
    registry = new SimpleMeterRegistry();
    limiter = new RateLimiter(redis, TestBackends.newRedisPrefix("RateLimiterTest"), Duration.ofSeconds(2),
        new GatewayMetrics(registry));
  }

  @AfterAll
  void stop() {
    await(redis.close());
    await(vertx.close());
  }

  @Test
  void a_fresh_key_gets_its_burst_then_is_refused_until_the_next_emission() {
    RateLimit limit = new RateLimit(0.5, 3);
    UUID deployment = UUID.randomUUID();
    UUID key = UUID.randomUUID();
    for (int remaining = 2; remaining >= 0; remaining--) {
      RateDecision d = await(limiter.acquire(deployment, key, limit));
      assertThat(d.allowed()).isTrue();
      assertThat(d.remaining()).isEqualTo(remaining);
      assertThat(d.retryAfterMicros()).isZero();
    }
    RateDecision refused = await(limiter.acquire(deployment, key, limit));
    assertThat(refused.allowed()).isFalse();
    assertThat(refused.remaining()).isZero();
    // One request is earned back every 2 s; the whole burst of 3 in 6 s.
    assertThat(refused.retryAfterMicros()).isBetween(1_000_000L, 2_000_000L);
    assertThat(refused.retryAfterSeconds()).isEqualTo(2);
    assertThat(refused.resetMicros()).isBetween(5_000_000L, 6_000_000L);
    assertThat(refused.resetSeconds()).isEqualTo(6);
    assertThat(registry.counter(GatewayMetrics.RATE_LIMIT_DECISIONS, "result", "limited").count()).isEqualTo(1);
  }

  @Test
  void each_key_and_each_deployment_has_its_own_budget() {
    RateLimit limit = new RateLimit(0.01, 1);
    UUID deployment = UUID.randomUUID();
    UUID key = UUID.randomUUID();
    assertThat(await(limiter.acquire(deployment, key, limit)).allowed()).isTrue();
    assertThat(await(limiter.acquire(deployment, key, limit)).allowed()).isFalse();
    assertThat(await(limiter.acquire(deployment, UUID.randomUUID(), limit)).allowed()).isTrue();
    assertThat(await(limiter.acquire(UUID.randomUUID(), key, limit)).allowed()).isTrue();
  }

  @Test
  void a_redis_that_refuses_connections_is_503_service_unavailable() throws IOException {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    Redis refused = Redis.createClient(vertx, "redis://127.0.0.1:" + closedPort);
    try {
      RateLimiter broken = new RateLimiter(refused, "fgtest:refused:", Duration.ofSeconds(2),
          new GatewayMetrics(new SimpleMeterRegistry()));
      assertUnavailable(awaitFailure(broken.acquire(UUID.randomUUID(), UUID.randomUUID(), new RateLimit(10, 20))));
    } finally {
      refused.close();
    }
  }

  @Test
  void a_redis_that_never_answers_is_503_after_the_command_timeout() {
    // Accepts the connection and reads, but never replies: a hung server.
    NetServer blackHole = await(vertx.createNetServer().connectHandler(socket -> socket.handler(b -> { }))
        .listen(0, "127.0.0.1"));
    Redis silent = Redis.createClient(vertx, "redis://127.0.0.1:" + blackHole.actualPort());
    try {
      RateLimiter stuck = new RateLimiter(silent, "fgtest:silent:", Duration.ofMillis(300),
          new GatewayMetrics(new SimpleMeterRegistry()));
      long started = System.nanoTime();
      assertUnavailable(awaitFailure(stuck.acquire(UUID.randomUUID(), UUID.randomUUID(), new RateLimit(10, 20))));
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(3));
    } finally {
      silent.close();
      await(blackHole.close());
    }
  }

  private static void assertUnavailable(Throwable failure) {
    assertThat(failure).isInstanceOf(GatewayException.class);
    GatewayException e = (GatewayException) failure;
    assertThat(e.code()).isEqualTo(ErrorCode.SERVICE_UNAVAILABLE);
    assertThat(e.retryAfterSeconds()).isEqualTo(1);
    assertThat(e.detail()).contains("rate limit");
  }
}
