package io.flowgate.inference.reference;

/**
 * A request the server refuses, with the HTTP status and the one-sentence reason sent as {@code {"error": ...}}.
 * Carries no stack trace: it is an answer, not a bug. Thrown and caught on the event loop.
 */
final class BadInputException extends Exception {
  private final int status;

  BadInputException(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  static BadInputException badRequest(String message) {
    return new BadInputException(400, message);
  }

  int status() {
    return status;
  }
}
