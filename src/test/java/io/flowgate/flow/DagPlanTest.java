package io.flowgate.flow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import org.junit.jupiter.api.Test;

class DagPlanTest {

  private static int[] positions(int[] order, int n) {
    int[] position = new int[n];
    for (int p = 0; p < order.length; p++) {
      position[order[p]] = p;
    }
    return position;
  }

  @Test
  void orders_every_node_after_its_predecessors() throws Exception {
    // 0 -> 3 -> 1 -> 4, 0 -> 2 -> 4, 3 -> 2
    String[] ids = {"in", "b", "c", "a", "out"};
    int[] from = {0, 3, 1, 0, 2, 3};
    int[] to = {3, 1, 4, 2, 4, 2};
    int[] order = DagPlan.of(ids, from, to, 0).order();
    assertThat(order).hasSize(5).startsWith(0);
    int[] position = positions(order, 5);
    for (int e = 0; e < from.length; e++) {
      assertThat(position[from[e]]).as("edge %s -> %s", ids[from[e]], ids[to[e]]).isLessThan(position[to[e]]);
    }
  }

  @Test
  void keeps_definition_order_between_independent_nodes() throws Exception {
    String[] ids = {"in", "x", "y", "z"};
    int[] order = DagPlan.of(ids, new int[] {0, 0, 0}, new int[] {3, 2, 1}, 0).order();
    assertThat(order).containsExactly(0, 1, 2, 3);
  }

  @Test
  void reports_a_cycle_starting_from_its_first_defined_node() {
    String[] ids = {"in", "a", "b", "c"};
    FlowValidationException e = catchThrowableOfType(FlowValidationException.class,
        () -> DagPlan.of(ids, new int[] {0, 1, 2, 3}, new int[] {1, 2, 3, 1}, 0));
    assertThat(e.getMessage()).isEqualTo("cycle: a -> b -> c -> a");
    assertThat(e.nodeId()).isEqualTo("a");
  }

  @Test
  void reports_a_cycle_downstream_of_the_root() {
    String[] ids = {"in", "a", "b", "c", "d"};
    FlowValidationException e = catchThrowableOfType(FlowValidationException.class,
        () -> DagPlan.of(ids, new int[] {0, 1, 2, 3, 4}, new int[] {1, 2, 3, 4, 2}, 0));
    assertThat(e.getMessage()).isEqualTo("cycle: b -> c -> d -> b");
  }

  @Test
  void reports_unreachable_nodes() {
    String[] ids = {"in", "a", "lost"};
    FlowValidationException e = catchThrowableOfType(FlowValidationException.class,
        () -> DagPlan.of(ids, new int[] {0}, new int[] {1}, 0));
    assertThat(e.getMessage()).isEqualTo("node 'lost' is not reachable from api_input node 'in'");
    assertThat(e.nodeId()).isEqualTo("lost");
  }
}
