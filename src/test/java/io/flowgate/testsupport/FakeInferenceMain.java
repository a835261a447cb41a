package io.flowgate.testsupport;

import io.vertx.core.Vertx;

/**
 * A child process for launch tests: {@code java -cp <test classpath> io.flowgate.testsupport.FakeInferenceMain
 * ready [boot-ms]} serves a {@link FakeInferenceServer} on {@code $PORT}, booting (503) for {@code boot-ms} first;
 * {@code exit} exits with code 3 at once (a broken command).
 */
public final class FakeInferenceMain {
  private FakeInferenceMain() {
  }

  public static void main(String[] args) {
    String mode = args.length > 0 ? args[0] : "ready";
    if (mode.equals("exit")) {
      System.err.println("fake inference server: refusing to start");
      System.exit(3);
    }
    long bootMs = args.length > 1 ? Long.parseLong(args[1]) : 0;
    int port = Integer.parseInt(System.getenv("PORT"));
    Vertx vertx = Vertx.vertx();
    FakeInferenceServer server = FakeInferenceServer.start(vertx, port);
    if (bootMs > 0) {
      server.mode(FakeInferenceServer.Mode.BOOTING);
      vertx.setTimer(bootMs, t -> server.mode(FakeInferenceServer.Mode.READY));
    }
  }
}
