package io.flowgate.inference;

/**
 * How flowgate talks to an inference server (DESIGN §1.4): {@code passthrough} (POST {@code input_data} to the
 * predict path, its JSON reply is {@code output_data}) or {@code open_inference_v2} (the KServe/Triton Open Inference
 * Protocol; see {@link OpenInference} for the mapping). Immutable; any thread.
 */
public enum Protocol {
  PASSTHROUGH("passthrough", "/health"),
  OPEN_INFERENCE_V2("open_inference_v2", "/v2/health/ready");

  private final String wire;
  private final String defaultReadyPath;

  Protocol(String wire, String defaultReadyPath) {
    this.wire = wire;
    this.defaultReadyPath = defaultReadyPath;
  }

  /** The name used in the API and in PostgreSQL. */
  public String wire() {
    return wire;
  }

  /** Where readiness is checked when the server names no {@code ready_path}. */
  public String defaultReadyPath() {
    return defaultReadyPath;
  }

  /** The protocol called {@code wire}, or null. */
  public static Protocol fromWire(String wire) {
    for (Protocol p : values()) {
      if (p.wire.equals(wire)) {
        return p;
      }
    }
    return null;
  }
}
