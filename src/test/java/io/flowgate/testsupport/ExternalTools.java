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
import java.util.concurrent.TimeUnit;

/**
 * The machine's own tools for tests that run client code as users would: python3, node, curl, and Newman (installed
 * from the npm registry once per machine into {@code ~/.cache/flowgate-test-tools}, so later runs, even after
 * {@code mvn clean}, reuse it). Blocking: JUnit thread only.
 */
public final class ExternalTools {
  /** The Newman release the Postman tests run (ECOSYSTEM.md). */
  public static final String NEWMAN_VERSION = "6.2.2";
  private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(5);

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
    try {
      Path out = Files.createTempFile(dir, "stdout", ".txt");
      Path err = Files.createTempFile(dir, "stderr", ".txt");
      Process p = new ProcessBuilder(command).directory(dir.toFile())
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
    Path root = toolsDir().resolve("newman-" + NEWMAN_VERSION);
    Path cli = root.resolve("node_modules/newman/bin/newman.js");
    if (Files.isRegularFile(cli)) {
      return List.of("node", cli.toString());
    }
    try {
      Files.createDirectories(root);
      try (FileChannel channel = FileChannel.open(root.resolve(".install.lock"), StandardOpenOption.CREATE,
          StandardOpenOption.WRITE); FileLock ignored = channel.lock()) {
        if (!Files.isRegularFile(cli)) {
          List<String> install = new ArrayList<>(List.of("npm", "install", "--prefix", root.toString(), "--no-audit",
              "--no-fund", "--loglevel=error", "newman@" + NEWMAN_VERSION));
          Result result = run(install, root, INSTALL_TIMEOUT);
          if (result.exitCode() != 0 || !Files.isRegularFile(cli)) {
            throw new IllegalStateException("npm could not install newman@" + NEWMAN_VERSION + " into " + root
                + ": " + result);
          }
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot install newman into " + root + ": " + e, e);
    }
    return List.of("node", cli.toString());
  }

  private static Path toolsDir() {
    String configured = System.getenv("FLOWGATE_TEST_TOOLS_DIR");
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured).toAbsolutePath();
    }
    return Path.of(System.getProperty("user.home"), ".cache", "flowgate-test-tools");
  }
}
