package io.flowgate.flow;

/** A JSONata evaluation failure whose message is fit for a run's error; no stack trace (it is user data). */
final class ExpressionFailure extends RuntimeException {

  private static final long serialVersionUID = 1L;

  ExpressionFailure(String message) {
    super(message, null, false, false);
  }
}
