package io.flowgate.backends;

import io.vertx.core.Future;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the versioned SQL schema migrations shipped as classpath resources, in version order, under a PostgreSQL
 * advisory lock, so several nodes may start at once and each file is applied exactly once.
 *
 * <p>Files live under {@code src/main/resources/db/migration/} and are named {@code V<n>__<name>.sql}
 * ({@code V7__add_run_history.sql}). Because a directory cannot be listed reliably inside a (shaded) jar, the runner
 * reads the list from {@code db/migration/index.txt}: one file name a line, blank lines and {@code #} comments
 * ignored. <b>When adding a migration, append its file name to index.txt</b> ({@code MigrationIndexTest} fails when
 * they disagree). A missing or empty index means no migrations.
 *
 * <p>Each pending file runs in its own transaction on one dedicated connection that holds
 * {@code pg_advisory_lock(0x666C6F7767617465)} ("flowgate"); the file's SQL is sent with the simple query protocol, so
 * it may hold several statements, but none that cannot run in a transaction ({@code CREATE INDEX CONCURRENTLY}). The
 * file is recorded in {@code schema_migrations(version, name, applied_at, checksum)} in the same transaction, so a
 * failing file leaves neither its changes nor its row. The checksum (SHA-256 of the text with CRLF normalised to LF) of
 * every applied file is compared with the file on the classpath: an applied migration must never be edited, add a new
 * one instead. A start against an up-to-date schema, the usual case, only reads {@code schema_migrations}: one query,
 * no lock, no DDL.
 *
 * <p>Async, through the Vert.x pool only (no JDBC). Reads the small SQL resources from the classpath on the calling
 * thread: call it at startup, not from a request handler. Thread-safe (stateless).
 */
public final class Migrations {

  static final String DEFAULT_DIR = "db/migration";
  static final String INDEX_FILE = "index.txt";
  /** "flowgate" in ASCII: one fixed key shared by every node and version. */
  static final long LOCK_KEY = 0x666C6F7767617465L;
  /** PostgreSQL's SQLSTATE for a table that does not exist. */
  private static final String UNDEFINED_TABLE = "42P01";

  private static final Logger LOG = LoggerFactory.getLogger(Migrations.class);
  private static final Pattern FILE_NAME = Pattern.compile("V(\\d{1,9})__([A-Za-z0-9_.-]+)\\.sql");
  private static final String CREATE_TABLE = "CREATE TABLE IF NOT EXISTS schema_migrations ("
    + "version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), "
    + "checksum text NOT NULL)";
  private static final String SELECT_APPLIED = "SELECT version, name, checksum FROM schema_migrations";
  private static final String INSERT_APPLIED = "INSERT INTO schema_migrations (version, name, checksum) "
    + "VALUES ($1, $2, $3)";

  private Migrations() {
  }

  /** Applies the pending migrations listed in {@code db/migration/index.txt}; completes with how many were applied. */
  public static Future<Integer> migrate(Pool pool) {
    List<String> files;
    try {
      files = readIndex(DEFAULT_DIR);
    } catch (MigrationException e) {
      return Future.failedFuture(e);
    }
    return migrate(pool, DEFAULT_DIR, files);
  }

  /** Applies the pending ones of {@code files} (names under {@code resourceDir}); how many were applied. */
  static Future<Integer> migrate(Pool pool, String resourceDir, List<String> files) {
    List<Migration> migrations;
    try {
      migrations = load(resourceDir, files);
    } catch (MigrationException e) {
      return Future.failedFuture(e);
    }
    long started = System.nanoTime();
    return pool.getConnection()
      .compose(conn -> upToDate(conn, migrations)
        .compose(current -> current ? Future.succeededFuture(0) : applyLocked(conn, migrations))
        .eventually(conn::close))
      .onSuccess(applied -> {
        int latest = migrations.isEmpty() ? 0 : migrations.get(migrations.size() - 1).version();
        LOG.info("schema migrations: {} applied, schema at version {} ({} known) in {} ms", applied, latest,
          migrations.size(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
      });
  }

  /**
   * The common start, an up-to-date schema, in one query and without the lock: every known file has its row, with its
   * checksum. A row, once committed, is final, so reading without the lock cannot pass a schema that is not there;
   * a node that sees rows missing (none yet, or another node migrating right now) takes the lock and looks again. An
   * edited file fails here as under the lock. No bookkeeping table yet (a new database) is "not up to date".
   */
  private static Future<Boolean> upToDate(SqlConnection conn, List<Migration> migrations) {
    return conn.query(SELECT_APPLIED).execute()
      .compose(rows -> pending(migrations, rows).map(List::isEmpty))
      .recover(e -> e instanceof PgException pg && UNDEFINED_TABLE.equals(pg.getSqlState())
        ? Future.succeededFuture(false)
        : Future.failedFuture(e));
  }

  /** Under the advisory lock: creates the bookkeeping table if needed, then applies what is still pending. */
  private static Future<Integer> applyLocked(SqlConnection conn, List<Migration> migrations) {
    // "IF NOT EXISTS" makes PostgreSQL send a NOTICE the driver would log as a warning on every start.
    return conn.query("SET client_min_messages TO warning").execute()
      .compose(quiet -> conn.query("SELECT pg_advisory_lock(" + LOCK_KEY + ")").execute())
      .compose(locked -> applyPending(conn, migrations)
        // Unlock on success and failure alike; an unlock error must not hide the migration's result.
        .transform(result -> conn.query("SELECT pg_advisory_unlock(" + LOCK_KEY + ")").execute()
          .transform(unlocked -> result.succeeded()
            ? Future.succeededFuture(result.result())
            : Future.<Integer>failedFuture(result.cause()))));
  }

  private static Future<Integer> applyPending(SqlConnection conn, List<Migration> migrations) {
    return conn.query(CREATE_TABLE).execute()
      .compose(created -> conn.query(SELECT_APPLIED).execute())
      .compose(rows -> pending(migrations, rows))
      .compose(pending -> {
        Future<Integer> chain = Future.succeededFuture(0);
        for (Migration m : pending) {
          chain = chain.compose(count -> apply(conn, m).map(count + 1));
        }
        return chain;
      });
  }

  /**
   * The known migrations that {@code applied} (rows of schema_migrations) has no row for, in order; fails when an
   * applied file was edited since. Warns of rows newer than this build knows.
   */
  private static Future<List<Migration>> pending(List<Migration> migrations, RowSet<Row> applied) {
    Map<Integer, Row> byVersion = new HashMap<>();
    applied.forEach(row -> byVersion.put(row.getInteger("version"), row));
    List<Migration> pending = new ArrayList<>();
    for (Migration m : migrations) {
      Row row = byVersion.get(m.version());
      if (row == null) {
        pending.add(m);
      } else if (!m.checksum().equals(row.getString("checksum"))) {
        return Future.failedFuture(new MigrationException("migration " + m.resource() + " (version " + m.version()
          + ") differs from the one applied to this database as " + row.getString("name") + " (checksum "
          + row.getString("checksum") + " in schema_migrations, " + m.checksum() + " on the classpath): never"
          + " edit an applied migration; restore it and add a new V<n>__<name>.sql instead"));
      }
    }
    int known = migrations.isEmpty() ? 0 : migrations.get(migrations.size() - 1).version();
    byVersion.keySet().stream().filter(v -> v > known).findAny().ifPresent(v -> LOG.warn(
      "the database has migration version {} that this build does not know (it knows up to {}): a newer flowgate"
        + " migrated it", v, known));
    return Future.succeededFuture(pending);
  }

  private static Future<Void> apply(SqlConnection conn, Migration m) {
    long started = System.nanoTime();
    return conn.begin()
      .compose(tx -> conn.query(m.sql()).execute()
        .compose(done -> conn.preparedQuery(INSERT_APPLIED).execute(Tuple.of(m.version(), m.name(), m.checksum())))
        .compose(recorded -> tx.commit())
        .recover(err -> tx.rollback().transform(rolledBack -> Future.<Void>failedFuture(new MigrationException(
          "migration " + m.resource() + " failed and was rolled back (nothing of it was applied): "
            + err.getMessage(), err)))))
      .onSuccess(v -> LOG.info("applied migration {} in {} ms", m.name(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)));
  }

  /** The file names listed in {@code resourceDir/index.txt}, in order; empty when there is no index. */
  static List<String> readIndex(String resourceDir) {
    String index = resourceDir + "/" + INDEX_FILE;
    String text = readResource(index);
    if (text == null) {
      LOG.info("no {} on the classpath: no schema migrations to apply", index);
      return List.of();
    }
    List<String> files = new ArrayList<>();
    for (String line : text.split("\n")) {
      int comment = line.indexOf('#');
      String name = (comment >= 0 ? line.substring(0, comment) : line).trim();
      if (!name.isEmpty()) {
        files.add(name);
      }
    }
    return files;
  }

  /** Reads, validates and sorts the files; fails on a bad name, a duplicate version or a missing file. */
  static List<Migration> load(String resourceDir, List<String> files) {
    List<Migration> migrations = new ArrayList<>();
    Map<Integer, String> byVersion = new HashMap<>();
    for (String file : files) {
      Matcher matcher = FILE_NAME.matcher(file);
      if (!matcher.matches()) {
        throw new MigrationException("migration file name '" + file + "' in " + resourceDir + " does not match"
          + " V<version>__<name>.sql (letters, digits, '_', '.', '-')");
      }
      int version = Integer.parseInt(matcher.group(1));
      String previous = byVersion.putIfAbsent(version, file);
      if (previous != null) {
        throw new MigrationException("migrations " + previous + " and " + file + " in " + resourceDir
          + " share version " + version + ": give one of them the next free version");
      }
      String resource = resourceDir + "/" + file;
      String sql = readResource(resource);
      if (sql == null) {
        throw new MigrationException("migration " + resource + " is listed in " + resourceDir + "/" + INDEX_FILE
          + " but is not on the classpath");
      }
      sql = normalise(sql);
      migrations.add(new Migration(version, file, resource, sql, sha256(sql)));
    }
    migrations.sort(Comparator.comparingInt(Migration::version));
    return List.copyOf(migrations);
  }

  private static String normalise(String sql) {
    String text = sql.startsWith("\uFEFF") ? sql.substring(1) : sql;
    return text.replace("\r\n", "\n");
  }

  private static String readResource(String name) {
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    if (loader == null) {
      loader = Migrations.class.getClassLoader();
    }
    try (InputStream in = loader.getResourceAsStream(name)) {
      return in == null ? null : new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new MigrationException("cannot read classpath resource " + name + ": " + e, e);
    }
  }

  private static String sha256(String text) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }

  /** One migration file: its version, file name, classpath resource, normalised SQL and checksum. */
  record Migration(int version, String name, String resource, String sql, String checksum) {
  }
}
