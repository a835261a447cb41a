package io.flowgate.testsupport;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The machine's own tools for tests that run client code as users would: python3, node, curl, Newman and
 * playwright-core (installed from the npm registry once per machine into {@code ~/.cache/flowgate-test-tools}, so
 * later runs, even after {@code mvn clean}, reuse them), and Debian's Chromium and Firefox ESR for the console's
 * browser tests (installed with apt-get when missing and the tests run as root, as CI does). Blocking: JUnit thread only.
 */
public final class ExternalTools {
  /** The Newman release the Postman tests run (ECOSYSTEM.md). */
  public static final String NEWMAN_VERSION = "6.2.2";
  /** The playwright-core release the console's browser test runs; it drives the machine's Chromium, downloads none. */
  public static final String PLAYWRIGHT_CORE_VERSION = "1.65.1";
  /** Where Debian installs Chromium. */
  public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  /** Where Debian installs Firefox ESR. */
  public static final Path FIREFOX = Path.of("/usr/bin/firefox-esr");
  private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(5);
  private static final Duration APT_TIMEOUT = Duration.ofMinutes(10);

  private ExternalTools() {
  }

  /** What a finished process wrote, and how it ended. */
  public record Result(int exitCode, String stdout, String stderr) {
    @Override
    public String toString() {
      return "exit " + exitCode + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr;
    }
  }

  /** Whether {@code command} runs and exits 0 within 20 s (e.g. {@code python3 -c "import requests"}). */
  public static boolean available(String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start();
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return false;
      }
      return p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Runs {@code command} in {@code dir}, stdout and stderr kept apart; kills it after {@code timeout}. */
  public static Result run(List<String> command, Path dir, Duration timeout) {
    return run(command, dir, timeout, Map.of());
  }

  /** {@link #run(List, Path, Duration)} with {@code env} added to this process's environment. */
  public static Result run(List<String> command, Path dir, Duration timeout, Map<String, String> env) {
    try {
      Path out = Files.createTempFile(dir, "stdout", ".txt");
      Path err = Files.createTempFile(dir, "stderr", ".txt");
      ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
      builder.environment().putAll(env);
      Process p = builder
          .redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.PIPE)
          .start();
      p.getOutputStream().close();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        throw new AssertionError(command + " did not finish within " + timeout + ":\n"
            + Files.readString(out, StandardCharsets.UTF_8) + Files.readString(err, StandardCharsets.UTF_8));
      }
      return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + command + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Whether node (18 or later, with fetch) and npm are installed. */
  public static boolean nodeAndNpm() {
    return available("node", "-e", "if (typeof fetch !== 'function') process.exit(1)") && available("npm", "--version");
  }

  /**
   * The newman command, installed on first use into {@code ~/.cache/flowgate-test-tools/newman-<version>} (or
   * {@code $FLOWGATE_TEST_TOOLS_DIR}) under a file lock, so concurrent builds on one machine install it once.
   */
  public static List<String> newman() {
    Path root = npmPackage("newman", NEWMAN_VERSION);
    return List.of("node", root.resolve("bin/newman.js").toString());
  }

  /**
   * The folder of the playwright-core package (for {@code require}), installed on first use like
   * {@link #newman()}. It never downloads a browser: tests point it at {@link #chromium(List)}.
   */
  public static Path playwrightCore() {
    return npmPackage("playwright-core", PLAYWRIGHT_CORE_VERSION);
  }

  /**
   * Debian's Chromium, or null with {@code reasons} saying why not: when it is missing and the tests run as root (as CI
   * does), it is installed with {@code apt-get install -y chromium} (once per machine, under a file lock).
   */
  public static Path chromium(List<String> reasons) {
    return debianPackage("chromium", CHROMIUM, reasons);
  }

  /** Debian's Firefox ESR, or null with {@code reasons} saying why not; installed like {@link #chromium(List)}. */
  public static Path firefox(List<String> reasons) {
    return debianPackage("firefox-esr", FIREFOX, reasons);
  }

  /** {@code binary} of Debian package {@code name}, installed with apt-get when missing and running as root. */
  private static Path debianPackage(String name, Path binary, List<String> reasons) {
    if (Files.isExecutable(binary)) {
      return binary;
    }
    if (!"root".equals(System.getProperty("user.name")) || !available("apt-get", "--version")) {
      reasons.add(binary + " is missing and the tests do not run as root with apt-get: install Debian's " + name
          + " package to run this test");
      return null;
    }
    Path root = toolsDir();
    try {
      Files.createDirectories(root);
      try (FileChannel channel = FileChannel.open(root.resolve(".apt-" + name + ".lock"), StandardOpenOption.CREATE,
          StandardOpenOption.WRITE); FileLock ignored = channel.lock()) {
        if (!Files.isExecutable(binary)) {
          Map<String, String> env = Map.of("DEBIAN_FRONTEND", "noninteractive");
          Result install = run(List.of("apt-get", "install", "-y", "-q", name), root, APT_TIMEOUT, env);
          if (install.exitCode() != 0) {
            // The package lists may be missing or stale on a fresh machine.
            run(List.of("apt-get", "update", "-q"), root, APT_TIMEOUT, env);
            install = run(List.of("apt-get", "install", "-y", "-q", name), root, APT_TIMEOUT, env);
          }
          if (install.exitCode() != 0 || !Files.isExecutable(binary)) {
            reasons.add("apt-get could not install " + name + ": " + install);
            return null;
          }
        }
      }
    } catch (IOException e) {
      reasons.add("cannot install " + name + ": " + e);
      return null;
    }
    return binary;
  }

  /** The folder of npm package {@code name@version}, installed on first use under a file lock. */
  private static Path npmPackage(String name, String version) {
    Path root = toolsDir().resolve(name + "-" + version);
    Path dir = root.resolve("node_modules").resolve(name);
    Path manifest = dir.resolve("package.json");
    if (Files.isRegularFile(manifest)) {
      return dir;
    }
    try {
      Files.createDirectories(root);
      try (FileChannel channel = FileChannel.open(root.resolve(".install.lock"), StandardOpenOption.CREATE,
          StandardOpenOption.WRITE); FileLock ignored = channel.lock()) {
        if (!Files.isRegularFile(manifest)) {
          List<String> install = new ArrayList<>(List.of("npm", "install", "--prefix", root.toString(), "--no-audit",
              "--no-fund", "--loglevel=error", name + "@" + version));
          Result result = run(install, root, INSTALL_TIMEOUT);
          if (result.exitCode() != 0 || !Files.isRegularFile(manifest)) {
            throw new IllegalStateException("npm could not install " + name + "@" + version + " into " + root
                + ": " + result);
          }
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot install " + name + " into " + root + ": " + e, e);
    }
    return dir;
  }

  private static Path toolsDir() {
    String configured = System.getenv("FLOWGATE_TEST_TOOLS_DIR");
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured).toAbsolutePath();
    }
    return Path.of(System.getProperty("user.home"), ".cache", "flowgate-test-tools");
  }
}
