package io.flowgate.backends;

import java.nio.file.Path;

/**
 * Runs in a child JVM for {@link EmbeddedBackendsTest}: starts the embedded backends on the given data dir, prints
 * {@code READY <pgUrl> <redisUrl>} and waits to be killed with SIGKILL, as a crashing flowgate would be.
 */
final class CrashingChild {

  private CrashingChild() {
  }

  public static void main(String[] args) throws Exception {
    EmbeddedBackends backends = EmbeddedBackends.start(Path.of(args[0]), true, true);
    System.out.println("READY " + backends.pgUrl() + " " + backends.redisUrl());
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
