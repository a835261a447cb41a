package io.flowgate.runs;

import io.flowgate.testsupport.Futures;
import io.flowgate.testsupport.TestBackends;
import io.vertx.core.Vertx;
import io.vertx.redis.client.ProtocolVersion;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/** A run store on a real Redis under a key prefix of the test class's own, and a fresh queued run to put in it. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class RunStoreTestBase {
  protected Vertx vertx;
  protected Redis redis;
  protected RunStore store;
  protected String prefix;

  @BeforeAll
  void startStore() {
    vertx = Vertx.vertx();
    redis = Redis.createClient(vertx, new RedisOptions().setConnectionString(TestBackends.redisUrl())
        .setPreferredProtocolVersion(ProtocolVersion.RESP2));
    prefix = TestBackends.newRedisPrefix(getClass().getSimpleName());
    store = new RunStore(redis, prefix, Duration.ofMinutes(5), Duration.ofMinutes(1), Duration.ofSeconds(5));
  }

  @AfterAll
  void stopStore() {
    Futures.await(vertx.close());
  }

  /** A queued async run of an api-type deployment, triggered with a key, created now. */
  protected static Run queued() {
    return new Run(UUID.randomUUID().toString(), UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID(), 1, "async",
        "api", RunStatus.QUEUED, Instant.now(), null, null, null, null, null, UUID.randomUUID());
  }
}
