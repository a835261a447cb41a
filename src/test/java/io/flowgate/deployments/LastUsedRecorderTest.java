package io.flowgate.deployments;

import static io.flowgate.deployments.DbFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.testsupport.TestBackends;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.pubsub.PgSubscriber;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * last_used_at without a write per request: uses are noted to the minute and written in one statement, only when the
 * minute moved, never backwards, and without a change notice (so no node drops its key cache for it).
 */
@ExtendWith(VertxExtension.class)
class LastUsedRecorderTest {
  private static Pool pool;
  private static PgSubscriber subscriber;
  private static ApiKeyRepository keys;
  private static final List<String> notices = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start(Vertx vertx) {
    String url = TestBackends.newDatabase(LastUsedRecorderTest.class.getSimpleName());
    pool = PgBuilder.pool().connectingTo(url).using(vertx).build();
    keys = new ApiKeyRepository(pool);
    subscriber = PgSubscriber.subscriber(vertx, PgConnectOptions.fromUri(url));
    subscriber.channel("flowgate_changes").handler(notices::add);
    await(subscriber.connect());
  }

  @AfterAll
  static void stop() {
    await(subscriber.close());
    await(pool.close());
  }

  @Test
  void a_use_is_written_to_the_minute_without_a_change_notice(Vertx vertx) {
    ApiKey key = await(keys.createProfileWide(Profile.DEFAULT_ID, "used")).key();
    LastUsedRecorder recorder = new LastUsedRecorder(vertx, keys);
    Instant before = Instant.now().truncatedTo(ChronoUnit.MINUTES);
    recorder.touch(key.id());
    recorder.touch(key.id());
    await(recorder.flush());
    Instant written = lastUsed(key.id());
    assertThat(written).isNotNull();
    assertThat(written.getEpochSecond() % 60).isZero();
    assertThat(written).isBetween(before, Instant.now());

    // The insert and the deactivation are announced; the last_used_at write in between is not.
    await(keys.deactivate(Profile.DEFAULT_ID, key.id()));
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> count(key.id()) == 2);
    assertThat(count(key.id())).isEqualTo(2);
  }

  @Test
  void a_use_in_a_minute_already_written_writes_nothing_and_a_time_never_moves_back(Vertx vertx) {
    ApiKey key = await(keys.createProfileWide(Profile.DEFAULT_ID, "twice")).key();
    LastUsedRecorder recorder = new LastUsedRecorder(vertx, keys);
    recorder.touch(key.id());
    await(recorder.flush());
    assertThat(lastUsed(key.id())).isNotNull();
    await(pool.preparedQuery("UPDATE api_keys SET last_used_at = NULL WHERE id = $1").execute(Tuple.of(key.id())));
    recorder.touch(key.id());
    await(recorder.flush());
    assertThat(lastUsed(key.id())).as("same minute: not written again").isNull();

    Instant later = Instant.now().plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.MINUTES);
    await(pool.preparedQuery("UPDATE api_keys SET last_used_at = $2 WHERE id = $1")
        .execute(Tuple.of(key.id(), later.atOffset(ZoneOffset.UTC))));
    LastUsedRecorder other = new LastUsedRecorder(vertx, keys);
    other.touch(key.id());
    await(other.flush());
    assertThat(lastUsed(key.id())).isEqualTo(later);
  }

  private static Instant lastUsed(UUID id) {
    OffsetDateTime t = await(pool.preparedQuery("SELECT last_used_at FROM api_keys WHERE id = $1")
        .execute(Tuple.of(id))).iterator().next().getOffsetDateTime("last_used_at");
    return t == null ? null : t.toInstant();
  }

  private static long count(UUID keyId) {
    return notices.stream().filter(n -> n.startsWith("api_keys:" + keyId + ":")).count();
  }
}
