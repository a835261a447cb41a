package io.flowgate.flow;

/**
 * Thrown when a flow definition is invalid; its message is a sentence naming the offending node or edge, and
 * {@link #nodeId()} names the node (null for flow-level problems). Thrown at compile time, never at run time.
 * Immutable; usable on any thread.
 */
public final class FlowValidationException extends Exception {

  private static final long serialVersionUID = 1L;

  private final String nodeId;

  /** A validation failure; {@code message} is the whole sentence, e.g. {@code node 'shape': unknown type 'x'}. */
  public FlowValidationException(String nodeId, String message) {
    super(message, null, false, false);
    this.nodeId = nodeId;
  }

  /** The offending node's id, or null when the problem concerns the whole flow. */
  public String nodeId() {
    return nodeId;
  }

  @Override
  public String getMessage() {
    return super.getMessage();
  }
}
