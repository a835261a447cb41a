package io.flowgate.inference.reference;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import org.tribuo.Example;
import org.tribuo.MutableDataset;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.classification.evaluation.LabelEvaluator;
import org.tribuo.classification.sgd.linear.LinearSGDModel;
import org.tribuo.classification.sgd.linear.LinearSGDTrainer;
import org.tribuo.classification.sgd.objectives.LogMulticlass;
import org.tribuo.impl.ArrayExample;
import org.tribuo.math.la.DenseMatrix;
import org.tribuo.math.optimisers.AdaGrad;
import org.tribuo.provenance.SimpleDataSourceProvenance;

/**
 * The reference model: a Tribuo multinomial logistic regression (SGD with AdaGrad) trained on Fisher's iris data set
 * (150 rows, {@code inference/iris.csv}, as in Fisher 1936 and R's {@code iris}; the UCI copy differs in rows 35 and
 * 38). Training takes a fraction of a second and is seeded, so every start gives the same model.
 *
 * <p>Tribuo trains and evaluates; serving then uses the trained weights, copied into one flat array, so a prediction
 * is 15 multiply-adds and a softmax with no allocation. The copy is checked against Tribuo's own {@code predict} on
 * every training row before the model is handed out.
 *
 * <p>Immutable once built; {@link #train()} runs on a worker thread, {@link #predict} on any thread.
 */
public final class IrisModel {
  /** The model's name in the Open Inference Protocol. */
  public static final String NAME = "iris";
  /** The only version served. */
  public static final String VERSION = "1";
  /** Number of input features per row: sepal length, sepal width, petal length, petal width (cm). */
  public static final int FEATURES = 4;
  /** The classes, in the fixed order of every probability vector this server returns. */
  public static final List<String> LABELS = List.of("setosa", "versicolor", "virginica");

  static final String DATA = "/inference/iris.csv";
  private static final String[] FEATURE_NAMES = {"sepal_length", "sepal_width", "petal_length", "petal_width"};
  private static final int CLASSES = 3;
  private static final int COLUMNS = FEATURES + 1;
  private static final long SEED = 12345L;
  private static final int EPOCHS = 100;
  // Tribuo logs through java.util.logging; a strong reference keeps the level from being collected with the logger.
  private static final java.util.logging.Logger TRIBUO_LOG = java.util.logging.Logger.getLogger("org.tribuo");

  private final double[] weights;
  private final double accuracy;
  private final LinearSGDModel model;

  private IrisModel(double[] weights, double accuracy, LinearSGDModel model) {
    this.weights = weights;
    this.accuracy = accuracy;
    this.model = model;
  }

  /** Loads the data set, trains, evaluates on the training rows and compiles the weights. Blocking (~0.1 s). */
  public static IrisModel train() {
    TRIBUO_LOG.setLevel(Level.WARNING);
    LabelFactory labels = new LabelFactory();
    MutableDataset<Label> data = new MutableDataset<>(
        new SimpleDataSourceProvenance("iris (Fisher 1936), " + DATA, labels), labels);
    for (Row row : readRows()) {
      data.add(new ArrayExample<>(new Label(row.label()), FEATURE_NAMES, row.features()));
    }
    LinearSGDTrainer trainer = new LinearSGDTrainer(new LogMulticlass(), new AdaGrad(0.5, 0.1), EPOCHS,
        Integer.MAX_VALUE, 1, SEED);
    LinearSGDModel model = trainer.train(data);
    double accuracy = new LabelEvaluator().evaluate(model, data).accuracy();
    IrisModel compiled = new IrisModel(compile(model), accuracy, model);
    compiled.verifyAgainst(data);
    return compiled;
  }

  /** Accuracy on the 150 training rows, as Tribuo's {@code LabelEvaluator} measured it. */
  public double accuracy() {
    return accuracy;
  }

  /**
   * Classifies the row {@code x[offset .. offset + 4)}, writing its 3 class probabilities (order of {@link #LABELS})
   * into {@code probs[probOffset ..]}; returns the index of the most likely class. Allocates nothing.
   */
  public int predict(double[] x, int offset, double[] probs, int probOffset) {
    double max = Double.NEGATIVE_INFINITY;
    for (int c = 0; c < CLASSES; c++) {
      int w = c * COLUMNS;
      double z = weights[w + FEATURES];
      for (int f = 0; f < FEATURES; f++) {
        z += weights[w + f] * x[offset + f];
      }
      probs[probOffset + c] = z;
      max = Math.max(max, z);
    }
    double sum = 0;
    for (int c = 0; c < CLASSES; c++) {
      double e = Math.exp(probs[probOffset + c] - max);
      probs[probOffset + c] = e;
      sum += e;
    }
    int best = 0;
    for (int c = 0; c < CLASSES; c++) {
      probs[probOffset + c] /= sum;
      if (probs[probOffset + c] > probs[probOffset + best]) {
        best = c;
      }
    }
    return best;
  }

  /** The same row classified by Tribuo itself (slow path, for checks): probabilities in {@link #LABELS} order. */
  double[] tribuoPredict(double[] x) {
    Prediction<Label> p = model.predict(new ArrayExample<>(LabelFactory.UNKNOWN_LABEL, FEATURE_NAMES, x));
    double[] out = new double[CLASSES];
    for (int c = 0; c < CLASSES; c++) {
      out[c] = p.getOutputScores().get(LABELS.get(c)).getScore();
    }
    return out;
  }

  /** The data set rows, in file order. */
  static List<Row> readRows() {
    InputStream in = IrisModel.class.getResourceAsStream(DATA);
    if (in == null) {
      throw new IllegalStateException("the iris data set " + DATA + " is missing from the class path");
    }
    List<Row> rows = new ArrayList<>(150);
    try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String header = r.readLine();
      if (header == null || !header.startsWith("sepal_length,")) {
        throw new IllegalStateException(DATA + " does not start with its header line");
      }
      for (String line; (line = r.readLine()) != null; ) {
        if (line.isBlank()) {
          continue;
        }
        String[] cells = line.split(",", -1);
        if (cells.length != FEATURES + 1 || !LABELS.contains(cells[FEATURES])) {
          throw new IllegalStateException(DATA + " has a malformed row: " + line);
        }
        double[] features = new double[FEATURES];
        for (int f = 0; f < FEATURES; f++) {
          features[f] = Double.parseDouble(cells[f]);
        }
        rows.add(new Row(features, cells[FEATURES]));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return rows;
  }

  /** One labelled row of the data set. */
  record Row(double[] features, String label) {
  }

  /** Tribuo's weight matrix (one row per class, one column per feature id, bias last) in our fixed orders. */
  private static double[] compile(LinearSGDModel model) {
    DenseMatrix w = model.getWeightsCopy();
    int featureCount = model.getFeatureIDMap().size();
    if (featureCount != FEATURES || w.getDimension1Size() != CLASSES || w.getDimension2Size() != COLUMNS) {
      throw new IllegalStateException("unexpected weight matrix " + w.getDimension1Size() + "x"
          + w.getDimension2Size() + " for " + featureCount + " features");
    }
    double[] out = new double[CLASSES * COLUMNS];
    for (int c = 0; c < CLASSES; c++) {
      int row = model.getOutputIDInfo().getID(new Label(LABELS.get(c)));
      for (int f = 0; f < FEATURES; f++) {
        out[c * COLUMNS + f] = w.get(row, model.getFeatureIDMap().getID(FEATURE_NAMES[f]));
      }
      out[c * COLUMNS + FEATURES] = w.get(row, FEATURES);
    }
    return out;
  }

  /** Refuses to serve if the compiled weights disagree with Tribuo on any training row. */
  private void verifyAgainst(MutableDataset<Label> data) {
    double[] x = new double[FEATURES];
    double[] ours = new double[CLASSES];
    for (Example<Label> example : data) {
      for (int f = 0; f < FEATURES; f++) {
        x[f] = example.lookup(FEATURE_NAMES[f]).getValue();
      }
      predict(x, 0, ours, 0);
      double[] theirs = tribuoPredict(x);
      for (int c = 0; c < CLASSES; c++) {
        if (Math.abs(ours[c] - theirs[c]) > 1e-9) {
          throw new IllegalStateException("compiled iris model disagrees with Tribuo on " + example);
        }
      }
    }
  }
}
