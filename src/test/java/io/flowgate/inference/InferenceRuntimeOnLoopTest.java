package io.flowgate.inference;

import static io.flowgate.inference.RuntimeFixture.passthrough;
import static io.flowgate.testsupport.Futures.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.testsupport.FakeInferenceServer;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every case of {@link InferenceRuntimeTest} with the runtime called from an event loop, as Fast Mode calls it: the
 * fake servers listen on 127.0.0.1, so the requests go over the runtime's own connections ({@link UpstreamPool})
 * instead of Vert.x's client, and every failure mode must come out the same.
 */
class InferenceRuntimeOnLoopTest extends InferenceRuntimeTest {
  private Context loop;

  @BeforeEach
  void loop() {
    loop = vertx.getOrCreateContext();
  }

  @Test
  void a_call_from_an_event_loop_goes_over_the_runtimes_own_connections() {
    FakeInferenceServer fake = fake();
    ServerRuntime runtime = servers.runtimeFor(passthrough(List.of(fake.url()), 5000, 64));
    await(runtime.firstCheck());
    assertThat(await(infer(runtime, new JsonObject().put("features", new JsonArray().add(1)), 0)).output()
        .getString("label")).isEqualTo("setosa");
    assertThat(runtime.usedOwnConnections()).isTrue();
    // From the test thread the same runtime uses Vert.x's client: both paths answer alike.
    assertThat(await(runtime.infer(new JsonObject(), 0)).output().getString("label")).isEqualTo("setosa");
  }

  @Override
  protected Future<InferenceResult> infer(ServerRuntime runtime, JsonObject input, int waitSeconds) {
    Promise<InferenceResult> answer = Promise.promise();
    loop.runOnContext(v -> runtime.infer(input, waitSeconds).onComplete(answer));
    return answer.future();
  }
}
