package io.flowgate.testsupport;

import io.flowgate.backends.BackendStartException;
import io.flowgate.backends.EmbeddedBackends;
import io.flowgate.backends.Migrations;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Redis and PostgreSQL servers shared by every integration test of one test JVM, started lazily on first use and
 * stopped by a JVM shutdown hook. With {@code FLOWGATE_PG_URL} / {@code FLOWGATE_REDIS_URL} set it uses those servers;
 * otherwise it starts the embedded ones the jar ships ({@link EmbeddedBackends}) in {@code target/test-backends-<random>}
 * and deletes that dir afterwards. Each test class takes its own database ({@link #newDatabase}) and Redis key prefix
 * ({@link #newRedisPrefix}); databases created on an external server are dropped and prefixed keys deleted at exit.
 * Blocking: call from the JUnit thread (e.g. {@code @BeforeAll}), never from an event loop. Thread-safe.
 */
public final class TestBackends {

  private static final Logger LOG = LoggerFactory.getLogger(TestBackends.class);
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final Duration STALE_AFTER = Duration.ofMinutes(2);
  private static final String DIR_PREFIX = "test-backends-";
  private static final SecureRandom RANDOM = new SecureRandom();

  private static State state;

  private TestBackends() {
  }

  /** A fresh PostgreSQL database for one test class ({@code <name>_<random>}), with the schema migrated; its URL. */
  public static String newDatabase(String testClassSimpleName) {
    String url = newEmptyDatabase(testClassSimpleName);
    State s = state();
    Pool pool = PgBuilder.pool().connectingTo(url).with(new PoolOptions().setMaxSize(1)).using(s.vertx).build();
    try {
      await(Migrations.migrate(pool).eventually(pool::close), "migrating " + url);
    } catch (RuntimeException e) {
      await(pool.close(), "closing pool");
      throw e;
    }
    return url;
  }

  /** A fresh, empty PostgreSQL database (no migrations applied), for tests of the migrations themselves; its URL. */
  public static String newEmptyDatabase(String testClassSimpleName) {
    State s = state();
    String name = safeName(testClassSimpleName, 40) + "_" + randomHex(4);
    Pool admin = PgBuilder.pool().connectingTo(s.pgAdminUrl).with(new PoolOptions().setMaxSize(1)).using(s.vertx)
      .build();
    // Database names are safe identifiers by construction; quoted anyway.
    await(admin.query("CREATE DATABASE \"" + name + "\"").execute().eventually(admin::close),
      "creating database " + name);
    s.databases.add(name);
    return withDatabase(s.pgAdminUrl, name);
  }

  /** A unique Redis key prefix for one test class, {@code fgtest:<name>:<random>:}. */
  public static String newRedisPrefix(String testClassSimpleName) {
    State s = state();
    String prefix = "fgtest:" + safeName(testClassSimpleName, 60) + ":" + randomHex(4) + ":";
    s.prefixes.add(prefix);
    return prefix;
  }

  /** The Redis server's URL. */
  public static String redisUrl() {
    return state().redisUrl;
  }

  /** The URL of the PostgreSQL server's admin database (may create databases). */
  public static String pgAdminUrl() {
    return state().pgAdminUrl;
  }

  private static State state() {
    synchronized (TestBackends.class) {
      if (state == null) {
        state = start();
        Runtime.getRuntime().addShutdownHook(new Thread(TestBackends::stop, "test-backends-stop"));
      }
      return state;
    }
  }

  private static State start() {
    String pgUrl = env("FLOWGATE_PG_URL");
    String redisUrl = env("FLOWGATE_REDIS_URL");
    EmbeddedBackends embedded = null;
    Path dir = null;
    if (pgUrl == null || redisUrl == null) {
      Path parent = Files.isDirectory(Path.of("target")) ? Path.of("target") : Path.of(System.getProperty(
        "java.io.tmpdir"));
      removeStaleDirs(parent.toAbsolutePath());
      dir = parent.resolve(DIR_PREFIX + randomHex(6)).toAbsolutePath();
      try {
        embedded = EmbeddedBackends.start(dir, pgUrl == null, redisUrl == null);
      } catch (BackendStartException e) {
        deleteRecursively(dir);
        throw new IllegalStateException("cannot start the embedded test backends (set FLOWGATE_PG_URL and"
          + " FLOWGATE_REDIS_URL to use running servers): " + e.getMessage(), e);
      }
      pgUrl = pgUrl == null ? embedded.pgUrl() : pgUrl;
      redisUrl = redisUrl == null ? embedded.redisUrl() : redisUrl;
    }
    LOG.info("test backends: PostgreSQL {}, Redis {}", redact(pgUrl), redact(redisUrl));
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(2));
    return new State(pgUrl, redisUrl, embedded, dir, vertx);
  }

  private static void stop() {
    State s;
    synchronized (TestBackends.class) {
      s = state;
    }
    if (s == null) {
      return;
    }
    if (s.embedded == null || s.embedded.pgUrl() == null) {
      dropDatabases(s);
    }
    if (s.embedded == null || s.embedded.redisUrl() == null) {
      deletePrefixedKeys(s);
    }
    try {
      await(s.vertx.close(), "closing Vert.x");
    } catch (RuntimeException e) {
      LOG.warn("closing the test Vert.x failed: {}", e.toString());
    }
    if (s.embedded != null) {
      s.embedded.close();
      deleteRecursively(s.dir);
    }
  }

  private static void dropDatabases(State s) {
    if (s.databases.isEmpty()) {
      return;
    }
    Pool admin = PgBuilder.pool().connectingTo(s.pgAdminUrl).with(new PoolOptions().setMaxSize(1)).using(s.vertx)
      .build();
    for (String name : s.databases) {
      try {
        await(admin.query("DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)").execute(), "dropping " + name);
      } catch (RuntimeException e) {
        LOG.warn("could not drop test database {}: {}", name, e.toString());
      }
    }
    await(admin.close(), "closing pool");
  }

  private static void deletePrefixedKeys(State s) {
    if (s.prefixes.isEmpty()) {
      return;
    }
    Redis client = Redis.createClient(s.vertx, s.redisUrl);
    try {
      RedisConnection conn = await(client.connect(), "connecting to Redis");
      for (String prefix : s.prefixes) {
        String cursor = "0";
        do {
          Response page = await(conn.send(Request.cmd(Command.SCAN).arg(cursor).arg("MATCH").arg(prefix + "*")
            .arg("COUNT").arg(1000)), "scanning " + prefix);
          cursor = page.get(0).toString();
          Response keys = page.get(1);
          if (keys.size() > 0) {
            Request unlink = Request.cmd(Command.UNLINK);
            keys.forEach(key -> unlink.arg(key.toBuffer()));
            await(conn.send(unlink), "deleting keys of " + prefix);
          }
        } while (!cursor.equals("0"));
      }
      conn.close();
    } catch (RuntimeException e) {
      LOG.warn("could not delete the test keys from Redis: {}", e.toString());
    } finally {
      client.close();
    }
  }

  /**
   * Stops the servers of test JVMs that were killed (their dir's lock is free and the dir is old) and deletes their
   * dirs: {@code EmbeddedBackends.start(dir, false, false)} takes the lock and stops orphans without starting any.
   */
  private static void removeStaleDirs(Path parent) {
    List<Path> candidates = new ArrayList<>();
    try (Stream<Path> dirs = Files.list(parent)) {
      dirs.filter(d -> d.getFileName().toString().startsWith(DIR_PREFIX) && Files.isDirectory(d))
        .forEach(candidates::add);
    } catch (IOException e) {
      return;
    }
    Instant staleBefore = Instant.now().minus(STALE_AFTER);
    for (Path dir : candidates) {
      try {
        FileTime modified = Files.getLastModifiedTime(dir);
        if (modified.toInstant().isAfter(staleBefore) || isLocked(dir)) {
          continue;
        }
        EmbeddedBackends.start(dir, false, false).close();
        deleteRecursively(dir);
        LOG.info("removed stale test backends dir {}", dir);
      } catch (IOException | BackendStartException e) {
        LOG.debug("leaving {}: {}", dir, e.toString());
      }
    }
  }

  private static boolean isLocked(Path dir) throws IOException {
    Path lockFile = dir.resolve(".lock");
    if (!Files.exists(lockFile)) {
      return false;
    }
    try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
      FileLock lock = channel.tryLock();
      if (lock == null) {
        return true;
      }
      lock.release();
      return false;
    } catch (OverlappingFileLockException e) {
      return true;
    }
  }

  static String withDatabase(String url, String database) {
    try {
      URI uri = new URI(url);
      String authority = uri.getRawAuthority() == null ? "" : uri.getRawAuthority();
      String query = uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery();
      return uri.getScheme() + "://" + authority + "/" + database + query;
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("not a PostgreSQL URL: " + redact(url), e);
    }
  }

  /** Lower-case letters, digits and '_' only, at most {@code max} characters: safe as identifier and key part. */
  static String safeName(String name, int max) {
    String safe = (name == null ? "" : name).toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    if (safe.isEmpty() || !Character.isLetter(safe.charAt(0))) {
      safe = "t" + safe;
    }
    return safe.length() > max ? safe.substring(0, max) : safe;
  }

  /** The URL without its password. */
  static String redact(String url) {
    return url == null ? null : url.replaceAll("(://[^:/@]*:)[^@/]*@", "$1***@");
  }

  private static String randomHex(int bytes) {
    byte[] random = new byte[bytes];
    RANDOM.nextBytes(random);
    return HexFormat.of().formatHex(random);
  }

  private static String env(String name) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? null : value.trim();
  }

  private static <T> T await(Future<T> future, String what) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new IllegalStateException(what + " failed: " + e.getCause().getMessage(), e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException(what + " did not finish in " + TIMEOUT.toSeconds() + " s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while " + what, e);
    }
  }

  private static void deleteRecursively(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          LOG.debug("cannot delete {}: {}", p, e.toString());
        }
      });
    } catch (IOException e) {
      LOG.warn("cannot delete {}: {}", dir, e.toString());
    }
  }

  private static final class State {
    final String pgAdminUrl;
    final String redisUrl;
    final EmbeddedBackends embedded;
    final Path dir;
    final Vertx vertx;
    final List<String> databases = new CopyOnWriteArrayList<>();
    final List<String> prefixes = new CopyOnWriteArrayList<>();

    State(String pgAdminUrl, String redisUrl, EmbeddedBackends embedded, Path dir, Vertx vertx) {
      this.pgAdminUrl = pgAdminUrl;
      this.redisUrl = redisUrl;
      this.embedded = embedded;
      this.dir = dir;
      this.vertx = vertx;
    }
  }
}
