package io.flowgate.flow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ExpressionTest {

  private static final FlowLimits LIMITS = FlowFixtures.testLimits();

  private static NodeContext context(Object input, Map<String, Object> inputData) {
    String[] ids = {"first"};
    Object[] outputs = {Map.of("k", "v")};
    return new NodeContext("n", input, null, inputData, new NodesView(ids, outputs, 1), new RunControl(), null);
  }

  @Test
  void binds_dollar_input_and_nodes() throws Exception {
    Expression e = Expression.compile("n", null, "{'a': $.x, 'b': $input.y, 'c': $nodes.first.k}", LIMITS);
    assertThat(e.evaluate(context(Map.of("x", 1), Map.of("y", "two"))))
        .isEqualTo(Map.of("a", 1, "b", "two", "c", "v"));
  }

  @Test
  void names_the_node_and_field_when_it_does_not_parse() {
    FlowValidationException e = catchThrowableOfType(FlowValidationException.class,
        () -> Expression.compile("call", "url", "$.(", LIMITS));
    assertThat(e.nodeId()).isEqualTo("call");
    assertThat(e.getMessage()).startsWith("node 'call': invalid JSONata expression in url: ");
  }

  @Test
  void fails_with_the_message_given_to_error() throws Exception {
    Expression e = Expression.compile("n", null, "$error('boom')", LIMITS);
    assertThatThrownBy(() -> e.evaluate(context(null, Map.of()))).hasMessage("boom");
  }

  @Test
  void returns_null_for_an_undefined_result_and_for_functions() throws Exception {
    assertThat(Expression.compile("n", null, "$.nothing", LIMITS).evaluate(context(Map.of(), Map.of()))).isNull();
    assertThat(Expression.compile("n", null, "function($x){$x}", LIMITS).evaluate(context(Map.of(), Map.of())))
        .isNull();
  }

  @Test
  void now_and_millis_give_the_time_of_each_evaluation() throws Exception {
    Expression e = Expression.compile("n", null, "[$millis(), $now(), $millis(), $now('[Y0001]')]", LIMITS);
    // Another expression compiled later on this thread used to become the library's clock source.
    Expression.compile("n", null, "1", LIMITS);
    long compiled = System.currentTimeMillis();
    while (System.currentTimeMillis() == compiled) {
      Thread.onSpinWait();
    }
    long before = System.currentTimeMillis();
    List<?> r = (List<?>) e.evaluate(context(null, Map.of()));
    long after = System.currentTimeMillis();
    long millis = ((Number) r.get(0)).longValue();
    assertThat(millis).isBetween(before, after);
    assertThat(r.get(2)).isEqualTo(r.get(0));
    assertThat(Instant.parse((String) r.get(1)).toEpochMilli()).isEqualTo(millis);
    assertThat(r.get(3)).isEqualTo(String.valueOf(Instant.ofEpochMilli(millis).atZone(ZoneOffset.UTC).getYear()));
  }
}
