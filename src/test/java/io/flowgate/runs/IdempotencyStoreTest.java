package io.flowgate.runs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.testsupport.TestBackends;
import io.flowgate.testsupport.Futures;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.ProtocolVersion;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class IdempotencyStoreTest {
  private static final Duration DAY = Duration.ofHours(24);

  private static Vertx vertx;
  private static Redis redis;
  private static String prefix;
  private static IdempotencyStore store;

  @BeforeAll
  static void connect(Vertx testVertx) {
    vertx = testVertx;
    prefix = TestBackends.newRedisPrefix(IdempotencyStoreTest.class.getSimpleName());
    redis = Redis.createClient(vertx, new RedisOptions()
        .setConnectionString(TestBackends.redisUrl())
        .setPreferredProtocolVersion(ProtocolVersion.RESP2)
        .setMaxPoolSize(8)
        .setMaxPoolWaiting(256));
    store = new IdempotencyStore(redis, prefix, DAY);
  }

  @AfterAll
  static void close() {
    redis.close();
  }

  // validate

  @Test
  void an_absent_header_means_no_idempotency_key() {
    assertThat(IdempotencyStore.validate(null)).isNull();
  }

  @Test
  void an_empty_header_is_refused_as_an_invalid_request() {
    assertInvalid("");
  }

  @Test
  void a_key_of_255_printable_characters_is_accepted_as_it_is() {
    String key = "k".repeat(254) + "~";
    assertThat(IdempotencyStore.validate(key)).isEqualTo(key);
    assertThat(IdempotencyStore.validate("!\"#$%&'()*+,-./0123456789:;<=>?@AZ[\\]^_`az{|}~")).isNotNull();
  }

  @Test
  void a_key_of_256_characters_is_refused() {
    assertInvalid("k".repeat(256));
  }

  @Test
  void spaces_control_characters_and_non_ascii_are_refused() {
    assertInvalid("my key");
    assertInvalid("key\t1");
    assertInvalid("key\n1");
    assertInvalid("key\u0000");
    assertInvalid("key\u007f");
    assertInvalid("schlüssel");
  }

  // fingerprint

  @Test
  void the_fingerprint_ignores_key_order_and_whitespace() {
    JsonObject a = new JsonObject("{\"b\": 2, \"a\": \"x\",\n  \"c\": [1, 2]}");
    JsonObject b = new JsonObject("{\"c\":[1,2],\"a\":\"x\",\"b\":2}");
    assertThat(IdempotencyStore.fingerprint(a)).isEqualTo(IdempotencyStore.fingerprint(b)).matches("[0-9a-f]{64}");
  }

  @Test
  void the_fingerprint_sorts_keys_of_nested_objects_and_objects_in_arrays() {
    JsonObject a = new JsonObject("{\"outer\": {\"z\": 1, \"y\": {\"b\": true, \"a\": null}},"
        + " \"list\": [{\"q\": 1, \"p\": 2}, \"s\"]}");
    JsonObject b = new JsonObject("{\"list\": [{\"p\": 2, \"q\": 1}, \"s\"],"
        + " \"outer\": {\"y\": {\"a\": null, \"b\": true}, \"z\": 1}}");
    assertThat(IdempotencyStore.fingerprint(a)).isEqualTo(IdempotencyStore.fingerprint(b));
  }

  @Test
  void the_fingerprint_sorts_keys_of_objects_built_from_maps_and_lists() {
    JsonObject built = new JsonObject().put("n", new JsonObject().put("b", 1).put("a", 2))
        .put("l", new JsonArray().add(new JsonObject().put("y", 1).put("x", 2)));
    JsonObject parsed = new JsonObject("{\"l\":[{\"x\":2,\"y\":1}],\"n\":{\"a\":2,\"b\":1}}");
    assertThat(IdempotencyStore.fingerprint(built)).isEqualTo(IdempotencyStore.fingerprint(parsed));
  }

  @Test
  void the_fingerprint_differs_for_different_values() {
    String base = IdempotencyStore.fingerprint(new JsonObject("{\"a\": {\"b\": 1}}"));
    assertThat(IdempotencyStore.fingerprint(new JsonObject("{\"a\": {\"b\": 2}}"))).isNotEqualTo(base);
    assertThat(IdempotencyStore.fingerprint(new JsonObject("{\"a\": {\"b\": \"1\"}}"))).isNotEqualTo(base);
    assertThat(IdempotencyStore.fingerprint(new JsonObject("{\"a\": {\"c\": 1}}"))).isNotEqualTo(base);
    assertThat(IdempotencyStore.fingerprint(new JsonObject("{\"a\": [1, 2]}")))
        .isNotEqualTo(IdempotencyStore.fingerprint(new JsonObject("{\"a\": [2, 1]}")));
    assertThat(IdempotencyStore.fingerprint(new JsonObject()))
        .isNotEqualTo(IdempotencyStore.fingerprint(null));
  }

  // claim

  @Test
  void the_first_claim_is_fresh_and_a_retry_with_the_same_body_gets_the_same_run() {
    UUID profile = UUID.randomUUID();
    UUID deployment = UUID.randomUUID();
    String fp = IdempotencyStore.fingerprint(new JsonObject().put("x", 1));

    IdempotencyStore.Claim first = await(store.claim(profile, deployment, "key-1", fp, "run-a"));
    IdempotencyStore.Claim retry = await(store.claim(profile, deployment, "key-1", fp, "run-b"));

    assertThat(first).isEqualTo(new IdempotencyStore.Claim(true, "run-a"));
    assertThat(retry).isEqualTo(new IdempotencyStore.Claim(false, "run-a"));
  }

  @Test
  void the_same_key_with_a_different_body_is_refused_with_422_idempotency_key_reused() {
    UUID profile = UUID.randomUUID();
    UUID deployment = UUID.randomUUID();
    await(store.claim(profile, deployment, "key-2", IdempotencyStore.fingerprint(new JsonObject().put("x", 1)),
        "run-a"));

    GatewayException e = awaitGatewayFailure(store.claim(profile, deployment, "key-2",
        IdempotencyStore.fingerprint(new JsonObject().put("x", 2)), "run-b"));

    assertThat(e.code()).isEqualTo(ErrorCode.IDEMPOTENCY_KEY_REUSED);
    assertThat(e.code().status()).isEqualTo(422);
    assertThat(e.detail()).isEqualTo("This Idempotency-Key was already used with a different request body; use a new"
        + " key for a new request.");
  }

  @Test
  void the_same_key_on_another_deployment_or_profile_is_independent() {
    UUID profile = UUID.randomUUID();
    UUID deployment = UUID.randomUUID();
    String fp = IdempotencyStore.fingerprint(new JsonObject());

    assertThat(await(store.claim(profile, deployment, "shared", fp, "run-1")).fresh()).isTrue();
    assertThat(await(store.claim(profile, UUID.randomUUID(), "shared", fp, "run-2")))
        .isEqualTo(new IdempotencyStore.Claim(true, "run-2"));
    assertThat(await(store.claim(UUID.randomUUID(), deployment, "shared", fp, "run-3")))
        .isEqualTo(new IdempotencyStore.Claim(true, "run-3"));
    assertThat(await(store.claim(profile, deployment, "shared", fp, "run-4")))
        .isEqualTo(new IdempotencyStore.Claim(false, "run-1"));
  }

  @Test
  void fifty_concurrent_claims_of_one_key_make_exactly_one_fresh_run() {
    UUID profile = UUID.randomUUID();
    UUID deployment = UUID.randomUUID();
    String fp = IdempotencyStore.fingerprint(new JsonObject().put("burst", true));
    Promise<List<IdempotencyStore.Claim>> done = Promise.promise();
    vertx.getOrCreateContext().runOnContext(v -> {
      List<Future<IdempotencyStore.Claim>> claims = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        claims.add(store.claim(profile, deployment, "burst-key", fp, "run-" + i));
      }
      Future.all(claims).map(all -> all.<IdempotencyStore.Claim>list()).onComplete(done);
    });

    List<IdempotencyStore.Claim> claims = await(done.future());

    assertThat(claims).hasSize(50);
    List<IdempotencyStore.Claim> fresh = claims.stream().filter(IdempotencyStore.Claim::fresh).toList();
    assertThat(fresh).hasSize(1);
    assertThat(claims).extracting(IdempotencyStore.Claim::runId).containsOnly(fresh.get(0).runId());
  }

  @Test
  void the_record_expires_after_the_ttl() {
    IdempotencyStore shortLived = new IdempotencyStore(redis, prefix, Duration.ofSeconds(1));
    UUID profile = UUID.randomUUID();
    UUID deployment = UUID.randomUUID();
    String fp = IdempotencyStore.fingerprint(new JsonObject());
    await(shortLived.claim(profile, deployment, "short", fp, "run-old"));

    long pttl = await(redis.send(Request.cmd(Command.PTTL).arg(shortLived.redisKey(profile, deployment, "short"))))
        .toLong();
    assertThat(pttl).isPositive().isLessThanOrEqualTo(1000);

    await(vertx.timer(1200));
    assertThat(await(shortLived.claim(profile, deployment, "short", fp, "run-new")))
        .isEqualTo(new IdempotencyStore.Claim(true, "run-new"));
  }

  @Test
  void the_production_ttl_is_set_on_the_record() {
    UUID profile = UUID.randomUUID();
    UUID deployment = UUID.randomUUID();
    await(store.claim(profile, deployment, "day", IdempotencyStore.fingerprint(new JsonObject()), "run-1"));

    long pttl = await(redis.send(Request.cmd(Command.PTTL).arg(store.redisKey(profile, deployment, "day"))))
        .toLong();

    assertThat(pttl).isGreaterThan(DAY.toMillis() - 60_000).isLessThanOrEqualTo(DAY.toMillis());
  }

  @Test
  void the_redis_key_holds_a_hash_of_the_client_key_never_the_key_itself() {
    UUID profile = UUID.randomUUID();
    UUID deployment = UUID.randomUUID();
    String clientKey = "order:42*{tag}" + "x".repeat(200);

    String redisKey = store.redisKey(profile, deployment, clientKey);

    assertThat(redisKey).matches(Pattern.quote(prefix + "idem:" + profile + ":" + deployment + ":")
        + "[0-9a-f]{64}");
    assertThat(redisKey).doesNotContain("order:42");
  }

  @Test
  void a_record_not_written_by_flowgate_is_replaced_by_a_fresh_claim() {
    UUID profile = UUID.randomUUID();
    UUID deployment = UUID.randomUUID();
    await(redis.send(Request.cmd(Command.SET).arg(store.redisKey(profile, deployment, "odd")).arg("no-separator")));

    assertThat(await(store.claim(profile, deployment, "odd", IdempotencyStore.fingerprint(new JsonObject()), "run-1")))
        .isEqualTo(new IdempotencyStore.Claim(true, "run-1"));
  }

  // release

  @Test
  void release_deletes_the_record_only_when_it_names_the_run() {
    UUID profile = UUID.randomUUID();
    UUID deployment = UUID.randomUUID();
    String fp = IdempotencyStore.fingerprint(new JsonObject().put("x", 1));
    await(store.claim(profile, deployment, "rel", fp, "run-a"));

    await(store.release(profile, deployment, "rel", "run-other"));
    assertThat(await(store.claim(profile, deployment, "rel", fp, "run-b")))
        .isEqualTo(new IdempotencyStore.Claim(false, "run-a"));

    await(store.release(profile, deployment, "rel", "run-a"));
    assertThat(await(store.claim(profile, deployment, "rel", fp, "run-c")))
        .isEqualTo(new IdempotencyStore.Claim(true, "run-c"));
  }

  @Test
  void releasing_a_key_without_a_record_succeeds() {
    await(store.release(UUID.randomUUID(), UUID.randomUUID(), "never-claimed", "run-x"));
  }

  // Redis down

  @Test
  void an_unreachable_redis_answers_503_service_unavailable() throws IOException {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    Redis down = Redis.createClient(vertx, new RedisOptions()
        .setConnectionString("redis://127.0.0.1:" + closedPort)
        .setPreferredProtocolVersion(ProtocolVersion.RESP2));
    try {
      IdempotencyStore unreachable = new IdempotencyStore(down, prefix, DAY);
      UUID profile = UUID.randomUUID();
      UUID deployment = UUID.randomUUID();

      GatewayException claim = awaitGatewayFailure(unreachable.claim(profile, deployment, "k",
          IdempotencyStore.fingerprint(new JsonObject()), "run-1"));
      GatewayException release = awaitGatewayFailure(unreachable.release(profile, deployment, "k", "run-1"));

      assertThat(claim.code()).isEqualTo(ErrorCode.SERVICE_UNAVAILABLE);
      assertThat(claim.code().status()).isEqualTo(503);
      assertThat(claim.retryAfterSeconds()).isPositive();
      assertThat(release.code()).isEqualTo(ErrorCode.SERVICE_UNAVAILABLE);
    } finally {
      down.close();
    }
  }

  private static void assertInvalid(String header) {
    assertThatThrownBy(() -> IdempotencyStore.validate(header))
        .isInstanceOfSatisfying(GatewayException.class, e -> {
          assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
          assertThat(e.detail()).contains("Idempotency-Key").endsWith(".");
        });
  }

  private static <T> T await(Future<T> future) {
    return Futures.await(future);
  }

  private static GatewayException awaitGatewayFailure(Future<?> future) {
    Throwable failure = Futures.awaitFailure(future);
    if (failure instanceof GatewayException ge) {
      return ge;
    }
    throw new AssertionError("expected a GatewayException but got " + failure, failure);
  }
}
