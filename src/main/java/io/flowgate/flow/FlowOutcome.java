package io.flowgate.flow;

/** How a flow run ended. A value; usable on any thread. */
public enum FlowOutcome {
  /** Every node that was not skipped completed. */
  COMPLETED,
  /** A node failed; the run stopped there. */
  FAILED,
  /** The run's {@link RunControl} was cancelled before it ended. */
  CANCELLED
}
