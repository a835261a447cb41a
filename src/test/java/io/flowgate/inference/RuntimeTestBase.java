package io.flowgate.inference;

import static io.flowgate.testsupport.Futures.await;

import io.flowgate.testsupport.FakeInferenceServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** A Vert.x, this node's inference runtime with quick settings and no database, and fake servers closed after. */
abstract class RuntimeTestBase {
  protected Vertx vertx;
  protected InferenceServers servers;
  protected final List<FakeInferenceServer> fakes = new ArrayList<>();

  @BeforeEach
  void startRuntime() {
    vertx = Vertx.vertx();
    servers = new InferenceServers(vertx, null, RuntimeFixture.quick());
  }

  @AfterEach
  void stopRuntime() {
    await(servers.close());
    fakes.forEach(FakeInferenceServer::close);
    fakes.clear();
    await(vertx.close());
  }

  /**
   * How a test calls {@code runtime}: from the test thread, where the runtime uses its Vert.x client. A subclass calls
   * from an event loop instead, where plain-HTTP replicas go through the runtime's own {@link UpstreamPool}.
   */
  protected Future<InferenceResult> infer(ServerRuntime runtime, JsonObject input, int waitSeconds) {
    return runtime.infer(input, waitSeconds);
  }

  /** A fake inference server on loopback, closed after the test. */
  protected FakeInferenceServer fake() {
    FakeInferenceServer fake = FakeInferenceServer.start(vertx);
    fakes.add(fake);
    return fake;
  }
}
