package io.flowgate.inference.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The iris data set and the model trained on it, without HTTP. */
class IrisModelTest {
  private static IrisModel model;

  @BeforeAll
  static void train() {
    model = IrisModel.train();
  }

  @Test
  void the_data_set_has_150_rows_50_of_each_species() {
    List<IrisModel.Row> rows = IrisModel.readRows();
    assertThat(rows).hasSize(150);
    Map<String, Long> counts = rows.stream().collect(Collectors.groupingBy(IrisModel.Row::label,
        Collectors.counting()));
    assertThat(counts).containsExactlyInAnyOrderEntriesOf(Map.of("setosa", 50L, "versicolor", 50L, "virginica", 50L));
  }

  @Test
  void the_data_set_matches_well_known_rows_of_fishers_table() {
    List<IrisModel.Row> rows = IrisModel.readRows();
    assertRow(rows.get(0), "setosa", 5.1, 3.5, 1.4, 0.2);
    assertRow(rows.get(34), "setosa", 4.9, 3.1, 1.5, 0.2);
    assertRow(rows.get(37), "setosa", 4.9, 3.6, 1.4, 0.1);
    assertRow(rows.get(50), "versicolor", 7.0, 3.2, 4.7, 1.4);
    assertRow(rows.get(100), "virginica", 6.3, 3.3, 6.0, 2.5);
    assertRow(rows.get(149), "virginica", 5.9, 3.0, 5.1, 1.8);
    double[] sums = new double[4];
    rows.forEach(r -> {
      for (int f = 0; f < 4; f++) {
        sums[f] += r.features()[f];
      }
    });
    // Column means of Fisher's table: 5.843, 3.057, 3.758, 1.199.
    assertThat(sums[0] / 150).isCloseTo(5.8433, within(1e-3));
    assertThat(sums[1] / 150).isCloseTo(3.0573, within(1e-3));
    assertThat(sums[2] / 150).isCloseTo(3.7580, within(1e-3));
    assertThat(sums[3] / 150).isCloseTo(1.1993, within(1e-3));
  }

  @Test
  void training_accuracy_is_at_least_ninety_percent() {
    assertThat(model.accuracy()).isGreaterThanOrEqualTo(0.9);
  }

  @Test
  void classifies_the_first_setosa_and_a_typical_virginica() {
    double[] p = new double[3];
    assertThat(IrisModel.LABELS.get(model.predict(new double[] {5.1, 3.5, 1.4, 0.2}, 0, p, 0))).isEqualTo("setosa");
    assertThat(p[0]).isGreaterThan(0.8);
    assertThat(p[0] + p[1] + p[2]).isCloseTo(1.0, within(1e-9));
    assertThat(IrisModel.LABELS.get(model.predict(new double[] {6.7, 3.0, 5.2, 2.3}, 0, p, 0)))
        .isEqualTo("virginica");
  }

  @Test
  void the_fast_path_agrees_with_tribuos_own_prediction() {
    double[] x = {6.0, 2.7, 5.1, 1.6};
    double[] p = new double[3];
    model.predict(x, 0, p, 0);
    assertThat(p).containsExactly(model.tribuoPredict(x), within(1e-9));
  }

  @Test
  void training_is_deterministic() {
    IrisModel again = IrisModel.train();
    double[] x = {5.9, 3.0, 4.2, 1.5};
    double[] a = new double[3];
    double[] b = new double[3];
    model.predict(x, 0, a, 0);
    again.predict(x, 0, b, 0);
    assertThat(b).containsExactly(a, within(0.0));
    assertThat(again.accuracy()).isEqualTo(model.accuracy());
  }

  private static void assertRow(IrisModel.Row row, String label, double... features) {
    assertThat(row.label()).isEqualTo(label);
    assertThat(row.features()).containsExactly(features);
  }
}
