package io.flowgate.backends;

/**
 * The embedded PostgreSQL or redis-server could not be started; the message says what to do about it.
 * Thrown on the thread that called {@link EmbeddedBackends#start}.
 */
public final class BackendStartException extends Exception {

  public BackendStartException(String message) {
    super(message);
  }

  public BackendStartException(String message, Throwable cause) {
    super(message, cause);
  }
}
