package io.flowgate.backends;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds and stops the embedded servers a previous flowgate process left running on a data dir after it was killed
 * with {@code kill -9}: they outlive the JVM and would block the next start. Only called while holding the data-dir
 * lock, so whatever runs on that dir is an orphan. Blocking; runs on the thread that starts the backends.
 */
final class Orphans {

  private static final Logger LOG = LoggerFactory.getLogger(Orphans.class);
  private static final Duration KILL_GRACE = Duration.ofSeconds(2);
  private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

  private Orphans() {
  }

  /**
   * Stops the postmaster named in {@code pgDir/postmaster.pid} if it is a postgres serving {@code pgDir}: SIGTERM, then
   * SIGKILL to it and its children after {@code timeout}. A pid file naming another live process is removed, so the
   * next postmaster does not mistake it for a running server.
   */
  static void stopPostgres(Path pgDir, Duration timeout) {
    Path pidFile = pgDir.resolve("postmaster.pid");
    Optional<Long> pid = readPid(pidFile);
    if (pid.isEmpty()) {
      return;
    }
    Optional<ProcessHandle> handle = ProcessHandle.of(pid.get()).filter(Orphans::alive);
    if (handle.isEmpty()) {
      return; // a stale pid file: postgres itself handles a dead pid
    }
    if (!isPostgresOf(handle.get().pid(), pgDir)) {
      LOG.warn("removing stale {}: pid {} is alive but is not a postgres of this data dir", pidFile, pid.get());
      deleteQuietly(pidFile);
      return;
    }
    LOG.warn("stopping orphaned PostgreSQL (pid {}) left running on {} by a previous process", pid.get(), pgDir);
    terminate(handle.get(), timeout);
  }

  /**
   * Stops every redis-server working in {@code redisDir} or started from a binary under {@code binDir}: SIGTERM
   * (redis then flushes its append-only file), SIGKILL after {@code timeout}.
   */
  static void stopRedis(Path redisDir, Path binDir, Duration timeout) {
    Path redisReal = realPath(redisDir);
    String binPrefix = realPath(binDir).toString() + "/";
    long self = ProcessHandle.current().pid();
    List<ProcessHandle> orphans = new ArrayList<>();
    ProcessHandle.allProcesses()
      .filter(p -> p.pid() != self)
      .forEach(p -> {
        String cmdline = cmdline(p.pid());
        if (!cmdline.contains("redis-server")) {
          return;
        }
        boolean worksInDir = readLink(p.pid(), "cwd").map(cwd -> cwd.equals(redisReal)).orElse(false);
        boolean ourBinary = readLink(p.pid(), "exe").map(exe -> exe.toString().startsWith(binPrefix)).orElse(false);
        if (worksInDir || ourBinary) {
          orphans.add(p);
        }
      });
    for (ProcessHandle orphan : orphans) {
      LOG.warn("stopping orphaned redis-server (pid {}) left running on {} by a previous process", orphan.pid(),
        redisDir);
      terminate(orphan, timeout);
    }
  }

  /** SIGTERM, wait up to {@code timeout}, then SIGKILL the process and everything it started. */
  private static void terminate(ProcessHandle process, Duration timeout) {
    List<ProcessHandle> all = new ArrayList<>();
    all.add(process);
    process.descendants().forEach(all::add);
    long started = System.nanoTime();
    process.destroy();
    if (awaitGone(all, timeout)) {
      LOG.info("orphan pid {} stopped in {} ms", process.pid(), elapsedMillis(started));
      return;
    }
    LOG.warn("orphan pid {} ignored SIGTERM for {} ms, killing it", process.pid(), timeout.toMillis());
    all.forEach(ProcessHandle::destroyForcibly);
    if (!awaitGone(all, KILL_GRACE)) {
      LOG.warn("orphan pid {} still alive after SIGKILL", process.pid());
    }
  }

  private static boolean awaitGone(List<ProcessHandle> processes, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (processes.stream().anyMatch(Orphans::alive)) {
      if (System.nanoTime() - deadline > 0) {
        return false;
      }
      LockSupport.parkNanos(POLL_NANOS);
    }
    return true;
  }

  /** Alive and not a zombie: an orphan's new parent may never reap it, and a zombie holds no port or file. */
  static boolean alive(ProcessHandle process) {
    if (!process.isAlive()) {
      return false;
    }
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"), StandardCharsets.UTF_8);
      int afterName = stat.lastIndexOf(')');
      char state = afterName >= 0 && afterName + 2 < stat.length() ? stat.charAt(afterName + 2) : 'R';
      return state != 'Z' && state != 'X';
    } catch (IOException e) {
      return false; // /proc entry gone: exited
    }
  }

  private static boolean isPostgresOf(long pid, Path pgDir) {
    String cmdline = cmdline(pid);
    int end = cmdline.indexOf('\0');
    String argv0 = end >= 0 ? cmdline.substring(0, end) : cmdline;
    String exe = argv0.substring(argv0.lastIndexOf('/') + 1);
    if (!exe.equals("postgres")) {
      return false;
    }
    Path pgReal = realPath(pgDir);
    boolean worksInDir = readLink(pid, "cwd").map(cwd -> cwd.equals(pgReal)).orElse(false);
    return worksInDir || cmdline.contains(pgReal.toString()) || cmdline.contains(pgDir.toString());
  }

  private static Optional<Long> readPid(Path pidFile) {
    try {
      List<String> lines = Files.readAllLines(pidFile, StandardCharsets.UTF_8);
      return lines.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(lines.get(0).trim()));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** The NUL-separated command line, or "" when the process is gone or unreadable. */
  private static String cmdline(long pid) {
    try {
      return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8);
    } catch (IOException | SecurityException e) {
      return "";
    }
  }

  private static Optional<Path> readLink(long pid, String link) {
    try {
      return Optional.of(Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), link)));
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return Optional.empty();
    }
  }

  private static Path realPath(Path path) {
    try {
      return path.toRealPath();
    } catch (IOException e) {
      return path.toAbsolutePath().normalize();
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      LOG.warn("could not delete {}: {}", file, e.toString());
    }
  }

  private static long elapsedMillis(long startNanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
  }
}
