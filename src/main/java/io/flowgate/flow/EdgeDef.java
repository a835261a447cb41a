package io.flowgate.flow;

import io.vertx.core.json.JsonObject;
import java.util.Objects;

/**
 * One edge of a flow definition, from one node id to another; {@code when} (true, false or null) is set only on
 * edges leaving a {@code condition} node and says on which outcome the edge is followed. A value; usable on any
 * thread.
 */
public record EdgeDef(String from, String to, Boolean when) {

  public EdgeDef {
    Objects.requireNonNull(from, "from");
    Objects.requireNonNull(to, "to");
  }

  /** This edge as JSON: {@code {"from", "to"}} plus {@code "when"} when set. */
  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("from", from).put("to", to);
    if (when != null) {
      json.put("when", when);
    }
    return json;
  }
}
