package io.flowgate.inference.reference;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The reference inference server's command line: where to listen, how long to stay "booting", how many event loops.
 * Immutable; {@link #parse} runs on the main thread.
 *
 * @param host the address to bind
 * @param port the TCP port; 0 picks a free one (the ready log line names it)
 * @param boot how long after start the server stays not ready, even once its model is trained
 * @param instances HTTP verticle instances, one per event loop
 */
public record ReferenceOptions(String host, int port, Duration boot, int instances) {
  /** The usage text printed for {@code --help} and after a command-line error. */
  public static final String USAGE = String.join("\n",
      "usage: java -jar flowgate.jar reference-inference --port N [--boot-seconds S] [--host H] [--instances N]",
      "  --port N           TCP port to listen on, 0 for any free one (default: the PORT environment variable)",
      "  --boot-seconds S   stay not ready (503 with Retry-After) for S seconds after start (default 0)",
      "  --host H           address to bind (default 127.0.0.1; 0.0.0.0 for every interface)",
      "  --instances N      event loops, one HTTP server instance each (default: one per core)",
      "Serves the iris model: POST /predict (passthrough) and the Open Inference Protocol v2 under /v2.");

  private static final double MAX_BOOT_SECONDS = 86_400;
  private static final int MAX_INSTANCES = 1024;

  public ReferenceOptions {
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("the host is empty");
    }
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("the port must be between 0 and 65535, got " + port);
    }
    if (boot == null || boot.isNegative()) {
      throw new IllegalArgumentException("the boot time must not be negative");
    }
    if (instances < 1 || instances > MAX_INSTANCES) {
      throw new IllegalArgumentException("instances must be between 1 and " + MAX_INSTANCES + ", got " + instances);
    }
  }

  /**
   * Reads {@code --port N}, {@code --boot-seconds S}, {@code --host H} and {@code --instances N} (also as
   * {@code --name=value}); without {@code --port} the port comes from {@code env}'s {@code PORT}, which is how
   * flowgate's launcher hands each replica its port.
   *
   * @throws IllegalArgumentException with a one-sentence reason when the arguments are wrong
   */
  public static ReferenceOptions parse(List<String> args, Map<String, String> env) {
    String host = "127.0.0.1";
    Integer port = null;
    double bootSeconds = 0;
    int instances = Runtime.getRuntime().availableProcessors();
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      String name = arg;
      String value = null;
      int eq = arg.indexOf('=');
      if (arg.startsWith("--") && eq > 0) {
        name = arg.substring(0, eq);
        value = arg.substring(eq + 1);
      }
      if (!name.equals("--port") && !name.equals("--boot-seconds") && !name.equals("--host")
          && !name.equals("--instances")) {
        throw new IllegalArgumentException("unknown argument '" + arg + "'");
      }
      if (!seen.add(name)) {
        throw new IllegalArgumentException(name + " is given more than once");
      }
      if (value == null) {
        if (i + 1 >= args.size()) {
          throw new IllegalArgumentException(name + " needs a value");
        }
        value = args.get(++i);
      }
      switch (name) {
        case "--port" -> port = parsePort(value, "--port");
        case "--boot-seconds" -> bootSeconds = parseBootSeconds(value);
        case "--host" -> host = value;
        default -> instances = parseInstances(value);
      }
    }
    if (port == null) {
      String fromEnv = env.get("PORT");
      if (fromEnv == null || fromEnv.isBlank()) {
        throw new IllegalArgumentException("no port: pass --port N or set the PORT environment variable");
      }
      port = parsePort(fromEnv.trim(), "PORT");
    }
    if (host.isBlank()) {
      throw new IllegalArgumentException("--host must not be empty");
    }
    return new ReferenceOptions(host, port, Duration.ofNanos(Math.round(bootSeconds * 1e9)), instances);
  }

  private static int parsePort(String value, String source) {
    try {
      int port = Integer.parseInt(value);
      if (port >= 0 && port <= 65_535) {
        return port;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(source + " must be a port number from 0 to 65535, got '" + value + "'");
  }

  private static double parseBootSeconds(String value) {
    try {
      double seconds = Double.parseDouble(value);
      if (seconds >= 0 && seconds <= MAX_BOOT_SECONDS) {
        return seconds;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("--boot-seconds must be a number of seconds from 0 to 86400, got '"
        + value + "'");
  }

  private static int parseInstances(String value) {
    try {
      int n = Integer.parseInt(value);
      if (n >= 1 && n <= MAX_INSTANCES) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("--instances must be a whole number from 1 to " + MAX_INSTANCES + ", got '"
        + value + "'");
  }
}
