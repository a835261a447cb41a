package io.flowgate.deployments;

/**
 * A declaration file that cannot be applied; the message names the file and the problem, for the operator to fix
 * before starting again. Immutable; any thread.
 */
public final class DeclarationException extends RuntimeException {
  public DeclarationException(String message) {
    super(message, null, false, false);
  }
}
