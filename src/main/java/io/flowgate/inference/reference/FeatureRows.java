package io.flowgate.inference.reference;

import java.util.Arrays;

/**
 * Rows of 4 features read from one request, row-major in one growable array. One per request; event-loop only.
 */
final class FeatureRows {
  private double[] values;
  private int size;

  FeatureRows(int expectedRows) {
    values = new double[Math.max(1, expectedRows) * IrisModel.FEATURES];
  }

  void add(double value) {
    if (size == values.length) {
      values = Arrays.copyOf(values, values.length * 2);
    }
    values[size++] = value;
  }

  /** Number of values added so far. */
  int size() {
    return size;
  }

  double[] values() {
    return values;
  }

  int rows() {
    return size / IrisModel.FEATURES;
  }
}
