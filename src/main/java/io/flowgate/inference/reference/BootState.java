package io.flowgate.inference.reference;

/**
 * Whether the server is ready: its model is trained and the boot time has passed since start. Written once by the
 * training step, read by every event loop on every request. Thread-safe.
 */
final class BootState {
  private static final long NANOS_PER_SECOND = 1_000_000_000L;

  private final long readyAtNanos;
  private volatile IrisModel model;
  // Set the first time both conditions hold, so a ready server pays one volatile read per request.
  private volatile boolean ready;

  BootState(long startNanos, long bootNanos) {
    this.readyAtNanos = startNanos + bootNanos;
  }

  void modelTrained(IrisModel trained) {
    this.model = trained;
  }

  /** The model once the server is ready, else null. */
  IrisModel readyModel() {
    if (ready) {
      return model;
    }
    return readyModel(System.nanoTime());
  }

  IrisModel readyModel(long nowNanos) {
    IrisModel m = model;
    if (m != null && nowNanos - readyAtNanos >= 0) {
      ready = true;
      return m;
    }
    return null;
  }

  /** Nanoseconds until the boot time has passed; 0 or less once it has. */
  long bootNanosLeft() {
    return readyAtNanos - System.nanoTime();
  }

  /** The {@code Retry-After} for a request refused while booting: whole seconds left, at least 1. */
  long retryAfterSeconds() {
    return retryAfterSeconds(System.nanoTime());
  }

  long retryAfterSeconds(long nowNanos) {
    long left = readyAtNanos - nowNanos;
    return Math.max(1, (left + NANOS_PER_SECOND - 1) / NANOS_PER_SECOND);
  }
}
