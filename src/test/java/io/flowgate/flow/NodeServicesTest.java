package io.flowgate.flow;

import static io.flowgate.flow.FlowFixtures.chain;
import static io.flowgate.flow.FlowFixtures.compile;
import static io.flowgate.flow.FlowFixtures.flow;
import static io.flowgate.flow.FlowFixtures.node;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Typed services in {@link NodeServices} and the run's profile as nodes see it. */
@ExtendWith(VertxExtension.class)
class NodeServicesTest {

  @Test
  void services_are_looked_up_by_type_and_added_by_copy(Vertx vertx) {
    NodeServices plain = new NodeServices(vertx, null, null);
    assertThat(plain.service(StringBuilder.class)).isNull();
    assertThat(plain.limits()).isEqualTo(FlowLimits.defaults());
    StringBuilder sb = new StringBuilder("x");
    NodeServices more = plain.with(StringBuilder.class, sb).with(CharSequence.class, "y");
    assertThat(more.service(StringBuilder.class)).isSameAs(sb);
    assertThat(more.service(CharSequence.class)).isEqualTo("y");
    assertThat(more.vertx()).isSameAs(vertx);
    assertThat(plain.service(StringBuilder.class)).isNull();
    assertThatThrownBy(() -> more.byType().put(Integer.class, 1)).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void a_service_must_be_an_instance_of_its_key(Vertx vertx) {
    Map<Class<?>, Object> wrong = new HashMap<>();
    wrong.put(Integer.class, "not an integer");
    assertThatThrownBy(() -> new NodeServices(vertx, null, null, wrong))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("java.lang.Integer");
  }

  @Test
  void every_node_sees_the_profile_the_run_was_started_for(Vertx vertx, VertxTestContext tc) throws Exception {
    NodeServices services = FlowFixtures.services(vertx);
    FlowPlan plan = compile(NodeTypes.load(services), flow(new JsonArray().add(node("input", "api_input"))
        .add(node("who", "test_profile")).add(node("output", "output")), chain("input", "who", "output")));
    FlowExecutor executor = new FlowExecutor(services);
    UUID profile = UUID.randomUUID();
    vertx.getOrCreateContext().runOnContext(v -> executor.execute(plan, new JsonObject(), new RunControl(), profile)
        .compose(owned -> executor.execute(plan, new JsonObject(), new RunControl()).map(none -> List.of(owned, none)))
        .onComplete(tc.succeeding(results -> tc.verify(() -> {
          assertThat(results.get(0).outputData().getString("profile")).isEqualTo(profile.toString());
          assertThat(results.get(1).outputData().getValue("profile")).isNull();
          tc.completeNow();
        }))));
  }
}
