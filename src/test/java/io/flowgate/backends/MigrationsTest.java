package io.flowgate.backends;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowgate.testsupport.TestBackends;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The migration runner against a real PostgreSQL, each test in a fresh empty database. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MigrationsTest {

  private static final String BASIC = "db/testmigrations/basic";
  private static final List<String> BASIC_FILES =
    List.of("V1__create_widgets.sql", "V2__seed_widgets.sql", "V3__audit_log.sql");

  private static Vertx vertx;
  private final List<Pool> pools = new ArrayList<>();
  private String url;

  @BeforeAll
  static void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stopVertx() {
    await(vertx.close());
  }

  @BeforeEach
  void newDatabase() {
    url = TestBackends.newEmptyDatabase(MigrationsTest.class.getSimpleName());
  }

  @AfterEach
  void closePools() {
    pools.forEach(pool -> await(pool.close()));
  }

  @Test
  void applies_files_in_version_order_and_records_each_with_its_checksum() {
    Pool pool = pool();
    // Listed out of order on purpose: the runner sorts by version.
    int applied = await(Migrations.migrate(pool, BASIC,
      List.of("V3__audit_log.sql", "V1__create_widgets.sql", "V2__seed_widgets.sql")));

    assertThat(applied).isEqualTo(3);
    assertThat(strings(pool, "SELECT file FROM apply_log ORDER BY file")).containsExactly("V1", "V2", "V3");
    List<Row> rows = rows(pool, "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version");
    assertThat(rows).extracting(r -> r.getInteger("version")).containsExactly(1, 2, 3);
    assertThat(rows).extracting(r -> r.getString("name")).containsExactlyElementsOf(BASIC_FILES);
    assertThat(rows).allSatisfy(r -> {
      assertThat(r.getString("checksum")).matches("[0-9a-f]{64}");
      assertThat(r.getOffsetDateTime("applied_at")).isNotNull();
    });
    assertThat(strings(pool, "SELECT name || ':' || created_at::date FROM widgets ORDER BY id")).hasSize(2);
  }

  @Test
  void a_second_run_applies_nothing() {
    Pool pool = pool();
    assertThat(await(Migrations.migrate(pool, BASIC, BASIC_FILES))).isEqualTo(3);

    assertThat(await(Migrations.migrate(pool, BASIC, BASIC_FILES))).isZero();
    assertThat(strings(pool, "SELECT file FROM apply_log ORDER BY file")).containsExactly("V1", "V2", "V3");
  }

  @Test
  void applies_only_the_files_added_since_the_last_run() {
    Pool pool = pool();
    assertThat(await(Migrations.migrate(pool, BASIC, BASIC_FILES.subList(0, 2)))).isEqualTo(2);

    assertThat(await(Migrations.migrate(pool, BASIC, BASIC_FILES))).isEqualTo(1);
    assertThat(strings(pool, "SELECT file FROM apply_log ORDER BY file")).containsExactly("V1", "V2", "V3");
  }

  @Test
  void two_nodes_migrating_at_once_apply_each_file_exactly_once() {
    Pool first = pool();
    Pool second = pool();

    Future<Integer> a = Migrations.migrate(first, BASIC, BASIC_FILES);
    Future<Integer> b = Migrations.migrate(second, BASIC, BASIC_FILES);
    await(Future.all(a, b));

    assertThat(a.result() + b.result()).isEqualTo(3);
    assertThat(List.of(a.result(), b.result())).containsExactlyInAnyOrder(0, 3);
    assertThat(strings(first, "SELECT file FROM apply_log ORDER BY file")).containsExactly("V1", "V2", "V3");
    assertThat(strings(first, "SELECT version::text FROM schema_migrations ORDER BY version"))
      .containsExactly("1", "2", "3");
  }

  @Test
  void an_up_to_date_schema_is_checked_without_the_lock_and_pending_files_wait_for_it() {
    Pool pool = pool();
    assertThat(await(Migrations.migrate(pool, BASIC, BASIC_FILES.subList(0, 2)))).isEqualTo(2);
    // Another node holds the lock (as while it migrates).
    Pool other = pool();
    SqlConnection holder = await(other.getConnection());
    await(holder.query("SELECT pg_advisory_lock(" + Migrations.LOCK_KEY + ")").execute());

    // Up to date: one read, no lock, so it does not wait for the holder.
    assertThat(Migrations.migrate(pool, BASIC, BASIC_FILES.subList(0, 2)).timeout(10, TimeUnit.SECONDS).await())
      .isZero();
    // An edited file is refused by that read too.
    assertThatThrownBy(() -> Migrations.migrate(pool, "db/testmigrations/changed", List.of("V1__create_widgets.sql"))
      .timeout(10, TimeUnit.SECONDS).await())
      .isInstanceOf(MigrationException.class).hasMessageContaining("differs from the one applied");
    // A pending file needs the lock: it waits for the holder, then applies.
    Future<Integer> pending = Migrations.migrate(pool, BASIC, BASIC_FILES);
    assertThatThrownBy(() -> pending.timeout(1, TimeUnit.SECONDS).await()).hasMessageContaining("Timeout");
    assertThat(pending.isComplete()).isFalse();
    await(holder.query("SELECT pg_advisory_unlock(" + Migrations.LOCK_KEY + ")").execute());
    await(holder.close());

    assertThat(await(pending)).isEqualTo(1);
    assertThat(strings(pool, "SELECT file FROM apply_log ORDER BY file")).containsExactly("V1", "V2", "V3");
  }

  @Test
  void refuses_to_run_when_an_applied_migration_was_edited() {
    Pool pool = pool();
    await(Migrations.migrate(pool, BASIC, BASIC_FILES.subList(0, 1)));

    assertThatThrownBy(() -> await(Migrations.migrate(pool, "db/testmigrations/changed",
      List.of("V1__create_widgets.sql"))))
      .isInstanceOf(MigrationException.class)
      .hasMessageContaining("db/testmigrations/changed/V1__create_widgets.sql")
      .hasMessageContaining("differs from the one applied")
      .hasMessageContaining("never edit an applied migration");
    // The lock was released and the connection returned: the next run proceeds.
    assertThat(await(Migrations.migrate(pool, BASIC, BASIC_FILES))).isEqualTo(2);
  }

  @Test
  void a_failing_migration_is_rolled_back_and_leaves_no_version_row() {
    Pool pool = pool();

    assertThatThrownBy(() -> await(Migrations.migrate(pool, "db/testmigrations/broken",
      List.of("V1__create_gadgets.sql", "V2__broken.sql"))))
      .isInstanceOf(MigrationException.class)
      .hasMessageContaining("V2__broken.sql failed and was rolled back")
      .hasMessageContaining("no_such_table");

    assertThat(strings(pool, "SELECT version::text FROM schema_migrations")).containsExactly("1");
    assertThat(strings(pool, "SELECT count(*)::text FROM gadgets")).containsExactly("0");
    assertThat(strings(pool, "SELECT coalesce(to_regclass('half_done')::text, 'absent')")).containsExactly("absent");
    // Unlocked and released: another node's run is not blocked.
    assertThatThrownBy(() -> await(Migrations.migrate(pool(), "db/testmigrations/broken",
      List.of("V1__create_gadgets.sql", "V2__broken.sql"))))
      .isInstanceOf(MigrationException.class);
  }

  @Test
  void an_empty_list_applies_nothing_but_creates_the_bookkeeping_table() {
    Pool pool = pool();

    assertThat(await(Migrations.migrate(pool, "db/testmigrations/none", List.of()))).isZero();
    assertThat(strings(pool, "SELECT count(*)::text FROM schema_migrations")).containsExactly("0");
  }

  @Test
  void reads_the_index_skipping_comments_and_blank_lines() {
    assertThat(Migrations.readIndex(BASIC)).containsExactlyElementsOf(BASIC_FILES);
    assertThat(Migrations.readIndex("db/testmigrations/none")).isEmpty();
  }

  @Test
  void rejects_bad_file_names_duplicate_versions_and_missing_files() {
    assertThatThrownBy(() -> Migrations.load(BASIC, List.of("create_widgets.sql")))
      .isInstanceOf(MigrationException.class).hasMessageContaining("does not match V<version>__<name>.sql");
    assertThatThrownBy(() -> Migrations.load("db/testmigrations/changed",
      List.of("V1__create_widgets.sql", "V1__create_widgets.sql")))
      .isInstanceOf(MigrationException.class).hasMessageContaining("share version 1");
    assertThatThrownBy(() -> Migrations.load(BASIC, List.of("V9__missing.sql")))
      .isInstanceOf(MigrationException.class).hasMessageContaining("is not on the classpath");
  }

  @Test
  void the_failure_of_an_unreachable_database_is_reported_not_hung() {
    Pool pool = PgBuilder.pool().connectingTo("postgresql://postgres@127.0.0.1:1/postgres")
      .with(new PoolOptions().setMaxSize(1)).using(vertx).build();
    pools.add(pool);

    assertThatThrownBy(() -> await(Migrations.migrate(pool, BASIC, BASIC_FILES))).isNotNull();
  }

  private Pool pool() {
    Pool pool = PgBuilder.pool().connectingTo(url).with(new PoolOptions().setMaxSize(2)).using(vertx).build();
    pools.add(pool);
    return pool;
  }

  private static List<Row> rows(Pool pool, String sql) {
    List<Row> rows = new ArrayList<>();
    await(pool.query(sql).execute()).forEach(rows::add);
    return rows;
  }

  private static List<String> strings(Pool pool, String sql) {
    List<String> values = new ArrayList<>();
    rows(pool, sql).forEach(r -> values.add(r.getString(0)));
    return values;
  }

  static <T> T await(Future<T> future) {
    return future.timeout(60, TimeUnit.SECONDS).await();
  }
}
