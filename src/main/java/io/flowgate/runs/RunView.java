package io.flowgate.runs;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.UUID;

/**
 * A run as an answer needs it: its id, owner, status and wire form ({@link Run#toWire()}). The wire form of an ended
 * run is encoded once, when it ends, and carried as bytes from there (Redis hash, completion notice) to the response,
 * never parsed and re-encoded on the way. Immutable apart from a lazily encoded wire form; confined to one context.
 */
public final class RunView {
  private final String id;
  private final UUID profileId;
  private final UUID deploymentId;
  private final RunStatus status;
  private final Run run;
  private Buffer wire;

  private RunView(String id, UUID profileId, UUID deploymentId, RunStatus status, Run run, Buffer wire) {
    this.id = id;
    this.profileId = profileId;
    this.deploymentId = deploymentId;
    this.status = status;
    this.run = run;
    this.wire = wire;
  }

  /** The view of a decoded run; its wire form is encoded when first asked for. */
  public static RunView of(Run run) {
    return run == null ? null : new RunView(run.id(), run.profileId(), run.deploymentId(), run.status(), run, null);
  }

  /** A run and its wire form, encoded already. */
  static RunView of(Run run, Buffer wire) {
    return new RunView(run.id(), run.profileId(), run.deploymentId(), run.status(), run, wire);
  }

  /** A run whose wire form was stored or sent as bytes. {@code profileId} is null when the source does not carry it. */
  static RunView ofWire(String id, UUID profileId, UUID deploymentId, RunStatus status, Buffer wire) {
    return new RunView(id, profileId, deploymentId, status, null, wire);
  }

  public String id() {
    return id;
  }

  /** The owning profile; null for a view built from a completion notice (its reader checked visibility before). */
  public UUID profileId() {
    return profileId;
  }

  public UUID deploymentId() {
    return deploymentId;
  }

  public RunStatus status() {
    return status;
  }

  /** The wire form as JSON bytes: the {@code data} member of the envelope. */
  public Buffer wire() {
    if (wire == null) {
      wire = run.toWire().toBuffer();
    }
    return wire;
  }

  /** The wire form as an object (error responses carry it as problem data). */
  public JsonObject wireJson() {
    return run != null ? run.toWire() : new JsonObject(wire);
  }
}
