package io.flowgate.backends;

/**
 * A schema migration could not be read, verified or applied; the message names the file and what to do. The failure
 * of the Future returned by {@link Migrations#migrate}; carries no thread affinity.
 */
public final class MigrationException extends RuntimeException {

  public MigrationException(String message) {
    super(message);
  }

  public MigrationException(String message, Throwable cause) {
    super(message, cause);
  }
}
