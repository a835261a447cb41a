package io.flowgate.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The shared test backends: one database and one key prefix per test class, the schema already migrated. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TestBackendsTest {

  private static Vertx vertx;

  @BeforeAll
  static void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stopVertx() {
    vertx.close().await();
  }

  @Test
  void each_call_gives_a_separate_database_with_the_schema_migrated() throws IOException {
    String first = TestBackends.newDatabase("TestBackendsTest");
    String second = TestBackends.newDatabase("TestBackendsTest");

    assertThat(first).isNotEqualTo(second).matches("postgresql://.*/testbackendstest_[0-9a-f]{8}");
    Pool pool = PgBuilder.pool().connectingTo(first).with(new PoolOptions().setMaxSize(1)).using(vertx).build();
    try {
      String db = await(pool.query("SELECT current_database() AS db").execute()).iterator().next().getString("db");
      assertThat(first).endsWith("/" + db);
      int migrations = await(pool.query("SELECT count(*)::int AS n FROM schema_migrations").execute())
        .iterator().next().getInteger("n");
      assertThat(migrations).isEqualTo(listedMigrations());
      await(pool.query("CREATE TABLE only_here (id int)").execute());
    } finally {
      await(pool.close());
    }
    Pool other = PgBuilder.pool().connectingTo(second).with(new PoolOptions().setMaxSize(1)).using(vertx).build();
    try {
      String found = await(other.query("SELECT coalesce(to_regclass('only_here')::text, 'absent') AS t").execute())
        .iterator().next().getString("t");
      assertThat(found).isEqualTo("absent");
    } finally {
      await(other.close());
    }
  }

  @Test
  void redis_prefixes_are_unique_per_call_and_the_server_answers() {
    String a = TestBackends.newRedisPrefix("TestBackendsTest");
    String b = TestBackends.newRedisPrefix("TestBackendsTest");

    assertThat(a).isNotEqualTo(b).matches("fgtest:testbackendstest:[0-9a-f]{8}:");
    RedisAPI api = RedisAPI.api(Redis.createClient(vertx, TestBackends.redisUrl()));
    try {
      await(api.set(List.of(a + "k", "v")));
      assertThat(await(api.get(a + "k")).toString()).isEqualTo("v");
      assertThat(await(api.get(b + "k"))).isNull();
    } finally {
      api.close();
    }
  }

  @Test
  void names_are_made_safe_and_passwords_are_redacted() {
    assertThat(TestBackends.safeName("My-Test$Class", 40)).isEqualTo("my_test_class");
    assertThat(TestBackends.safeName("9lives", 40)).isEqualTo("t9lives");
    assertThat(TestBackends.safeName("a".repeat(100), 40)).hasSize(40);
    assertThat(TestBackends.withDatabase("postgresql://u:p@h:5432/postgres?sslmode=disable", "x_1"))
      .isEqualTo("postgresql://u:p@h:5432/x_1?sslmode=disable");
    assertThat(TestBackends.redact("postgresql://u:secret@h:5432/db")).isEqualTo("postgresql://u:***@h:5432/db");
    assertThat(TestBackends.redact("redis://127.0.0.1:6379")).isEqualTo("redis://127.0.0.1:6379");
  }

  /** The .sql files listed in the main migration index. */
  private static int listedMigrations() throws IOException {
    try (InputStream in = TestBackendsTest.class.getClassLoader().getResourceAsStream("db/migration/index.txt")) {
      if (in == null) {
        return 0;
      }
      return (int) new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
        .map(l -> l.replaceAll("#.*", "").trim()).filter(l -> l.endsWith(".sql")).count();
    }
  }

  private static <T> T await(Future<T> future) {
    return future.timeout(60, TimeUnit.SECONDS).await();
  }
}
