package io.flowgate.inference;

/** The state of one replica (DESIGN §1.4), as this node sees it. Immutable; any thread. */
public enum ReplicaState {
  /** Starting, or answering 503 to readiness checks: requests get 503 {@code inference_booting}. */
  BOOTING("booting"),
  /** Passed its last readiness check and its circuit is not open: requests are forwarded to it. */
  READY("ready"),
  /** Failing readiness checks, refusing connections, crashed, or its circuit is open. */
  UNAVAILABLE("unavailable"),
  /** Not running (a launched replica that is not started, or a server stopped on this node). */
  STOPPED("stopped");

  private final String wire;

  ReplicaState(String wire) {
    this.wire = wire;
  }

  public String wire() {
    return wire;
  }
}
